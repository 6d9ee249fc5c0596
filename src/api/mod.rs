//! The application API: JSON-RPC 2.0 over TCP (JSON Lines). (to be written)
