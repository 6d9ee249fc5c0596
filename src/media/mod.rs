//! RTP port allocation. (to be written)
