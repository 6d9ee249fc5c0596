//! SDP offer/answer with webrtc-sdp. (to be written)
