//! The sans-I/O core composing TAPISRV and the SIP provider. (to be written)
