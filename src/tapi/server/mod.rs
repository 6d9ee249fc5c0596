//! TAPISRV: apps, line opens, call handles, requests and delivery. (to be written)
