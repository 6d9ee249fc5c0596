//! RFC 3261 §17 transactions as sans-I/O state machines. (to be written)
