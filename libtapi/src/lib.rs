//! libtapi: Microsoft TAPI 2.x's C interface (`include/tapi.h`) implemented as a client of the
//! tapigw gateway's JSON-RPC API (JSON Lines over TCP). Every hLineApp/hPhoneApp has its own
//! connection and reader thread; messages reach the application through its LINECALLBACK on a
//! library thread or through an eventfd and lineGetMessage, behind an ordering gate that keeps
//! a LINE_REPLY from overtaking the return of the function it answers. Dropped connections are
//! resumed (contract "Sessions that survive a dropped connection"). See README.md.

mod abi;
mod app;
mod config;
mod consts;
mod errors;
mod eventfd;
mod export;
mod fill;
mod gate;
mod message;
mod registry;
mod session;
mod sync;
mod time;
mod varsize;
mod wire;
