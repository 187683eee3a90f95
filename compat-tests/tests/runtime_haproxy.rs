//! Traffic scenarios (`compat-tests/scenarios/*.scn`, format in the README there) played
//! through real proxies on 127.0.0.1 against echo backends:
//!
//! - `every_scenario_meets_its_expectations_on_haproxy`: input every scenario, played against
//!   `haproxy -db -f` (haproxy on PATH); output each transcript meets its scenario's own
//!   `--- expect` lines. This keeps the scenarios true to the oracle.
//! - `rsproxy_carries_traffic_as_haproxy_does`: input every scenario, played against HAProxy
//!   and against `rsproxy -db -c` (`RSPROXY_BIN`, else `target/debug/rsproxy`); output the two
//!   transcripts are equal line for line and rsproxy's meets the expectations too. A scenario
//!   marked `rsproxy-pending: REASON` needs what the runtime does not carry out yet: rsproxy
//!   must refuse to start on it (never run it differently).
//!
//! Both play every scenario and fail once at the end with every failure. `SCENARIOS=a,b`
//! plays only those (file stems).

use compat_tests::runtime::{
    compare, load_scenarios, play, scenarios_dir, selected, Proxy, Target,
};

#[test]
fn every_scenario_meets_its_expectations_on_haproxy() {
    let scenarios = selected(load_scenarios(&scenarios_dir()).expect("scenarios parse"));
    let failures: Vec<String> = std::thread::scope(|s| {
        let runs: Vec<_> = scenarios
            .iter()
            .map(|scn| s.spawn(move || play(scn, &Target::Haproxy).and_then(|t| t.check(scn))))
            .collect();
        runs.into_iter()
            .filter_map(|r| r.join().unwrap_or_else(|_| Err("panicked".into())).err())
            .collect()
    });
    assert!(
        failures.is_empty(),
        "{} of {} scenarios failed on haproxy:\n\n{}",
        failures.len(),
        scenarios.len(),
        failures.join("\n\n")
    );
}

#[test]
fn rsproxy_carries_traffic_as_haproxy_does() {
    let bin = Proxy::rsproxy_bin();
    assert!(
        bin.exists(),
        "{}: build rsproxy first or set RSPROXY_BIN",
        bin.display()
    );
    let scenarios = selected(load_scenarios(&scenarios_dir()).expect("scenarios parse"));
    let mut failures = Vec::new();
    for scn in &scenarios {
        if let Some(reason) = &scn.rsproxy_pending {
            // Not carried out yet: rsproxy must refuse to start rather than run it otherwise.
            match play(scn, &Target::Rsproxy(bin.clone())) {
                Err(e) if e.contains("is not carried out by the rsproxy runtime yet") => {
                    eprintln!(
                        "{}: rsproxy refuses it as expected (pending: {reason})",
                        scn.name
                    );
                }
                Err(e) => failures.push(format!(
                    "{}: pending ({reason}) but failed otherwise:\n{e}",
                    scn.name
                )),
                Ok(_) => failures.push(format!(
                    "{}: pending ({reason}) yet rsproxy ran it",
                    scn.name
                )),
            }
            continue;
        }
        let outcome = play(scn, &Target::Haproxy).and_then(|h| {
            let r = play(scn, &Target::Rsproxy(bin.clone()))?;
            compare(&h, &r)?;
            r.check(scn)
        });
        if let Err(e) = outcome {
            failures.push(e);
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} scenarios differ between haproxy and rsproxy:\n\n{}",
        failures.len(),
        scenarios.len(),
        failures.join("\n\n")
    );
}
