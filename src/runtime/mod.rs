//! tokio drivers around the core. (to be written)
