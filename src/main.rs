//! The `tapigw` binary. (to be written)
fn main() {}
