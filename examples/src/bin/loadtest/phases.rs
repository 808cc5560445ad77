//! `--phases`: which parts of a round run, so a change to one path can be measured in short
//! runs without the others (`--phases ingest,dispatch`).

/// A part of a round.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(super) enum Step {
    /// The baseline and the receiver's ingest alone, on each store.
    Ingest,
    /// The backlog processed, then ingest with processing beside it (runs ingest too: the
    /// backlog is what ingest alone stored).
    Processing,
    /// Enqueue and dispatch on each store.
    Dispatch,
}

/// Every part: the default.
pub(super) const ALL: &str = "ingest,processing,dispatch";

/// Whether `step` runs, given the `--phases` list.
pub(super) fn runs(phases: &[Step], step: Step) -> bool {
    phases.contains(&step) || (step == Step::Ingest && phases.contains(&Step::Processing))
}

/// ` --phases a,b` for the report's command line, empty for the default.
pub(super) fn shown(phases: &[Step]) -> String {
    let all = [Step::Ingest, Step::Processing, Step::Dispatch];
    if all.iter().all(|s| phases.contains(s)) {
        return String::new();
    }
    let names: Vec<&str> = phases
        .iter()
        .map(|s| match s {
            Step::Ingest => "ingest",
            Step::Processing => "processing",
            Step::Dispatch => "dispatch",
        })
        .collect();
    format!(" --phases {}", names.join(","))
}
