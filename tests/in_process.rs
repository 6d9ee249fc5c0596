//! The server started in-process (bind, then run with a shutdown future), on ports chosen by
//! the OS: what an embedding program or a test harness does instead of spawning the binary.

use std::path::Path;
use std::time::Duration;

use tapigw::client::Client;
use tapigw::runtime::Server;

#[tokio::test]
async fn binds_on_port_zero_serves_the_api_and_stops_on_request() {
    let config = tapigw::config::load_str(
        "[sip]\nlisten = \"127.0.0.1:0\"\njournal_path = \"\"\n[api]\nlisten = \"127.0.0.1:0\"\n[media]\nmode = \"none\"\n\
         [[lines]]\nuser = \"1001\"\ndomain = \"127.0.0.1\"\nproxy = \"127.0.0.1:9\"\n",
        Path::new("in-process.toml"),
    )
    .unwrap();
    let server = Server::bind(config).await.unwrap();
    let (sip, api) = (server.sip_addr(), server.api_addr());
    assert_ne!(sip.port(), 0);
    assert_ne!(api.port(), 0);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(server.run(async {
        let _ = stopped.await;
    }));
    let mut client = Client::connect(api).await.unwrap();
    let (app, devs) = client.line_initialize_ex("embedded", 1, 0).await.unwrap();
    assert!(app > 0);
    assert_eq!(devs, 1);
    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(5), running)
        .await
        .expect("the server stops once asked")
        .unwrap();
}
