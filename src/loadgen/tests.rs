use super::*;

fn p(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn load_params_parse_and_round_trip() {
    assert_eq!(LoadSpec::from_params("primes", &p(&[("n", "5")])), Ok(None));
    let spec = LoadSpec::from_params("service", &[]).unwrap().unwrap();
    assert_eq!(spec, LoadSpec::default());
    let spec = LoadSpec::from_params(
        "./mine.py",
        &p(&[
            ("load.rps", "500"),
            ("load.duration", "2.5"),
            ("handler", "echo"),
        ]),
    )
    .unwrap()
    .unwrap();
    assert_eq!(spec.arrival, Arrival::Open { rps: 500.0 });
    assert_eq!(spec.duration, Duration::from_millis(2500));
    let again = LoadSpec::from_params("service", &spec.to_params())
        .unwrap()
        .unwrap();
    assert_eq!(again, spec);
    assert_eq!(
        harness_params(&p(&[("load.rps", "5"), ("handler", "echo")])),
        p(&[("handler", "echo")])
    );
}

#[test]
fn bad_load_params_say_what_to_do() {
    let err = |pairs: &[(&str, &str)]| LoadSpec::from_params("service", &p(pairs)).unwrap_err();
    assert!(err(&[("load.rps", "0")]).contains("load.rps=0: expected requests per second > 0"));
    assert!(err(&[("load.rps", "5"), ("load.clients", "2")]).contains("not both"));
    assert!(err(&[("load.clients", "1.5")]).contains("whole number"));
    assert!(
        err(&[("load.rate", "1")]).contains("unknown load parameter 'load.rate' (known: load.rps")
    );
}
