//! Tests of configuration loading: defaults, overrides, and one-line errors naming the key.

use std::io::Write;
use std::path::Path;

use super::*;

const BASE: &str = r#"
[sip]
listen = "127.0.0.1:5060"

[api]
listen = "127.0.0.1:8274"

[[lines]]
name = "Line 1"
user = "0049301234"
domain = "127.0.0.1"
proxy = "127.0.0.1:5070"
transport = "udp"
"#;

fn file_with(text: &str) -> tempfile::NamedTempFile {
    let mut f = tempfile::NamedTempFile::new().unwrap();
    f.write_all(text.as_bytes()).unwrap();
    f
}

fn load_with(text: &str, env: &[(&str, &str)]) -> Result<GatewayConfig, ConfigError> {
    let f = file_with(text);
    let env = env.iter().map(|(k, v)| (k.to_string(), v.to_string()));
    let settings = read_settings(f.path(), env)?;
    resolve::resolve(f.path(), settings)
}

#[test]
fn defaults_apply() {
    let c = load_with(BASE, &[]).unwrap();
    assert_eq!(c.sip.timers.t1.as_millis(), 500);
    assert_eq!(c.sip.timers.t2.as_millis(), 4000);
    assert_eq!(c.sip.timers.t4.as_millis(), 5000);
    assert_eq!(c.lines.len(), 1);
    assert_eq!(c.lines[0].expires, 300);
    assert!(!c.lines[0].register);
    assert_eq!(c.lines[0].registrar, c.lines[0].proxy);
    assert_eq!(c.media.address.to_string(), "127.0.0.1");
    assert_eq!(c.sip.advertised_port, 5060);
}

#[test]
fn env_overrides_keep_leading_zeros_and_coerce_numbers() {
    let c = load_with(
        BASE,
        &[
            ("TAPIGW__API__LISTEN", "127.0.0.1:9000"),
            ("TAPIGW__SIP__T1_MS", "50"),
            ("OTHER__SIP__T1_MS", "7"),
        ],
    )
    .unwrap();
    assert_eq!(c.api.listen.port(), 9000);
    assert_eq!(c.sip.timers.t1.as_millis(), 50);
    assert_eq!(c.lines[0].user, "0049301234");
}

fn error_of(text: &str, env: &[(&str, &str)]) -> String {
    let e = load_with(text, env).unwrap_err().to_string();
    assert!(!e.contains('\n'), "error must be one line: {e}");
    e
}

#[test]
fn unknown_key_is_named() {
    let e = error_of(&BASE.replace("[api]", "[api]\nlisen = 1"), &[]);
    assert!(e.contains("key `api.lisen`: unknown key"), "{e}");
    let e = error_of(&format!("{BASE}\nbogus = 1\n"), &[]);
    assert!(e.contains("lines[0].bogus"), "{e}");
}

#[test]
fn wrong_type_is_named() {
    let e = error_of(BASE, &[("TAPIGW__SIP__T1_MS", "fast")]);
    assert!(e.contains("key `sip.t1_ms`"), "{e}");
    let e = error_of(&format!("{BASE}expires = \"x\"\n"), &[]);
    assert!(e.contains("key `lines[0].expires`"), "{e}");
}

#[test]
fn bad_addresses_are_named() {
    let e = error_of(BASE, &[("TAPIGW__SIP__LISTEN", "nonsense")]);
    assert!(e.contains("key `sip.listen`"), "{e}");
    let e = error_of(&BASE.replace("127.0.0.1:5070", "127.0.0.1:notaport"), &[]);
    assert!(e.contains("key `lines[0].proxy`"), "{e}");
    let e = error_of(&format!("{BASE}transport_x = 1\n"), &[]);
    assert!(e.contains("lines[0].transport_x"), "{e}");
    let e = error_of(&BASE.replace("\"udp\"", "\"sctp\""), &[]);
    assert!(e.contains("key `lines[0].transport`"), "{e}");
}

#[test]
fn semantic_errors_are_named() {
    let two = format!(
        "{BASE}\n[[lines]]\nuser = \"0049301234\"\ndomain = \"x\"\nproxy = \"127.0.0.1:1\"\n"
    );
    assert!(error_of(&two, &[]).contains("key `lines[1].user`: duplicate"));
    let e = error_of(BASE, &[("TAPIGW__SIP__T2_MS", "100")]);
    assert!(e.contains("key `sip.t2_ms`"), "{e}");
    let e = error_of(
        &format!("[media]\nport_min = 5000\nport_max = 4000\n{BASE}"),
        &[],
    );
    assert!(e.contains("key `media.port_min`"), "{e}");
}

#[test]
fn session_timer_and_100rel_keys() {
    let c = load_with(BASE, &[]).unwrap();
    assert_eq!((c.lines[0].session_expires, c.lines[0].min_se), (1800, 90));
    assert_eq!(
        c.lines[0].reliable_provisionals,
        ReliableProvisionals::IfRequired
    );
    let text = format!("{BASE}session_expires = 0\nreliable_provisionals = \"if-supported\"\n");
    let c = load_with(&text, &[]).unwrap();
    assert_eq!(c.lines[0].session_expires, 0);
    assert_eq!(
        c.lines[0].reliable_provisionals,
        ReliableProvisionals::IfSupported
    );
    let e = error_of(&format!("{BASE}min_se = 60\n"), &[]);
    assert!(e.contains("key `lines[0].min_se`"), "{e}");
    let e = error_of(&format!("{BASE}session_expires = 100\nmin_se = 120\n"), &[]);
    assert!(e.contains("key `lines[0].session_expires`"), "{e}");
    let e = error_of(
        &format!("{BASE}reliable_provisionals = \"sometimes\"\n"),
        &[],
    );
    assert!(e.contains("lines[0].reliable_provisionals"), "{e}");
}

#[test]
fn unreadable_file_names_the_file() {
    let e = load(Path::new("/nonexistent/tapigw.toml"))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("/nonexistent/tapigw.toml") && e.contains("cannot read"),
        "{e}"
    );
}

#[test]
fn syntax_error_is_one_line() {
    let e = error_of("[sip\nlisten=", &[]);
    assert!(e.starts_with("config error in "), "{e}");
}

#[test]
fn public_address_and_trusted() {
    let text = BASE.replace("[sip]\n", "[sip]\npublic_address = \"203.0.113.9:5080\"\n")
        + "register = true\ntrusted = [\"198.51.100.1\", \"198.51.100.2:5060\"]\n";
    let c = load_with(&text, &[]).unwrap();
    assert_eq!(c.sip.advertised_host.to_string(), "203.0.113.9");
    assert_eq!(c.sip.advertised_port, 5080);
    let t = &c.lines[0].trusted;
    assert!(t
        .iter()
        .any(|s| s.matches("127.0.0.1:5070".parse().unwrap())));
    assert!(t
        .iter()
        .any(|s| s.matches("198.51.100.1:1234".parse().unwrap())));
    assert!(t
        .iter()
        .any(|s| s.matches("198.51.100.2:5060".parse().unwrap())));
    assert!(!t
        .iter()
        .any(|s| s.matches("198.51.100.2:5061".parse().unwrap())));
    let bad = text.replace("198.51.100.1", "not-an-ip");
    assert!(error_of(&bad, &[]).contains("lines[0].trusted[0]"));
}

#[test]
fn resume_grace_has_a_default_an_override_and_a_bound() {
    let c = load_with(BASE, &[]).unwrap();
    assert_eq!(c.api.resume_grace.as_secs(), 30);
    let c = load_with(&BASE.replace("[api]", "[api]\nresume_grace_s = 2"), &[]).unwrap();
    assert_eq!(c.api.resume_grace.as_secs(), 2);
    let c = load_with(BASE, &[("TAPIGW__API__RESUME_GRACE_S", "5")]).unwrap();
    assert_eq!(c.api.resume_grace.as_secs(), 5);
    let e = error_of(&BASE.replace("[api]", "[api]\nresume_grace_s = 86401"), &[]);
    assert!(e.contains("key `api.resume_grace_s`"), "{e}");
    let e = error_of(&BASE.replace("[api]", "[api]\nresume_grace_s = -1"), &[]);
    assert!(e.contains("api.resume_grace_s"), "{e}");
}

#[test]
fn transparent_huge_pages_are_off_unless_asked_for() {
    assert!(!load_with(BASE, &[]).unwrap().transparent_huge_pages);
    let on = format!("{BASE}\n[runtime]\ntransparent_huge_pages = true\n");
    assert!(load_with(&on, &[]).unwrap().transparent_huge_pages);
    let bad = format!("{BASE}\n[runtime]\ntransparent_huge_pages = \"maybe\"\n");
    let err = error_of(&bad, &[]);
    assert!(err.contains("transparent_huge_pages"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
}

#[test]
fn runtime_threads_default_to_one_and_are_bounded() {
    assert_eq!(load_with(BASE, &[]).unwrap().threads, 1);
    let four = load_with(&format!("{BASE}\n[runtime]\nthreads = 4\n"), &[]).unwrap();
    assert_eq!(four.threads, 4);
    let env = load_with(BASE, &[("TAPIGW__RUNTIME__THREADS", "3")]).unwrap();
    assert_eq!(env.threads, 3);
    for bad in ["0", "257"] {
        let text = format!("{BASE}\n[runtime]\nthreads = {bad}\n");
        let err = error_of(&text, &[]);
        assert!(err.contains("runtime.threads"), "{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
    }
}
