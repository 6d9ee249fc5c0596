//! The SIP line provider. (to be written)
