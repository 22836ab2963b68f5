//! The app's panels on synthetic runs (`store::fixtures::Synth`), no Python:
//! each panel is drawn from a read-only `UiContext`, clicked like a user
//! would, and the `Action` it returns is checked, as is what it drew.

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use gilscope::interp::{Interpreter, Mode};
use gilscope::store::RunRecord;
use gilscope::store::fixtures::{Synth, interpreter};
use gilscope::ui::action::{Action, View};
use gilscope::ui::compare::CompareView;
use gilscope::ui::context::{InstallState, UiContext};
use gilscope::ui::live::LiveView;
use gilscope::ui::runs::{RunId, Runs};
use gilscope::ui::setup::SetupPanel;
use gilscope::ui::{App, UiOptions};
use std::path::PathBuf;

fn pythons() -> Vec<Interpreter> {
    vec![
        interpreter("3.13", "3.13.5", false),
        interpreter("3.13t", "3.13.5", true),
    ]
}

/// Runs, interpreters and one panel, and the last action it returned.
struct Bench<P> {
    runs: Runs,
    model: gilscope::ui::model::RunsModel,
    shown: Option<RunId>,
    interpreters: Vec<Interpreter>,
    busy: bool,
    panel: P,
    actions: Vec<Action>,
    fonts: bool,
}

impl<P> Bench<P> {
    fn new(panel: P) -> Self {
        Self {
            runs: Runs::default(),
            model: Default::default(),
            shown: None,
            interpreters: pythons(),
            busy: false,
            panel,
            actions: Vec::new(),
            fonts: false,
        }
    }

    fn add(&mut self, record: RunRecord) -> RunId {
        let id = self.runs.add(record, None, None);
        self.shown = Some(id);
        id
    }

    /// Draws the panel with `draw` from a read-only context.
    fn frame(
        &mut self,
        ui: &mut egui::Ui,
        draw: impl FnOnce(&mut P, &mut egui::Ui, &UiContext) -> Option<Action>,
    ) {
        if !self.fonts {
            // The app's fonts (DejaVu Sans for ▶, ■, ✓, ✗), as the window has.
            gilscope::ui::kit::style::install_fonts(ui.ctx());
            self.fonts = true;
        }
        let install = InstallState::default();
        let dir = PathBuf::from("/tmp");
        self.model.refresh(&self.runs, self.shown);
        let cx = UiContext {
            runs: &self.runs,
            model: &self.model,
            shown: self.shown,
            interpreters: Some(&self.interpreters),
            busy: self.busy,
            progress: None,
            install: &install,
            dark: true,
            presentation: false,
            self_cpu: None,
            low_refresh: false,
            export_dir: &dir,
        };
        if let Some(a) = draw(&mut self.panel, ui, &cx) {
            self.actions.push(a);
        }
    }
}

fn gil_run(workers: usize) -> RunRecord {
    Synth::new(Mode::Gil, workers).build(&pythons()[0])
}

fn compare_harness(bench: Bench<CompareView>) -> Harness<'static, Bench<CompareView>> {
    Harness::builder()
        .with_size(egui::vec2(1440.0, 900.0))
        .build_ui_state(
            |ui, b: &mut Bench<CompareView>| b.frame(ui, |p, ui, cx| p.ui(ui, cx)),
            bench,
        )
}

#[test]
fn compare_rows_show_race_and_clear_return_actions() {
    let mut bench = Bench::new(CompareView::default());
    let one = bench.add(gil_run(1));
    let two = bench.add(gil_run(2));
    let mut h = compare_harness(bench);
    h.run();
    assert!(h.query_by_label("Runs (2)").is_some());
    // Speedup of the 2-worker run against the 1-worker one: the synthetic
    // workers take the same time per chunk, so 2 workers do twice the
    // items in the same time.
    assert!(h.query_by_label("2.00×").is_some(), "speedup cell");

    // Race needs two ticks: disabled now, so a click does nothing.
    h.get_by_label("Race the two selected").click();
    h.run();
    assert!(h.state().actions.is_empty(), "{:?}", h.state().actions);
    h.get_by_label(&format!("select run {}", one.number()))
        .click();
    h.run();
    h.get_by_label(&format!("select run {}", two.number()))
        .click();
    h.run();
    assert_eq!(h.state().panel.selected(), vec![one, two]);
    h.get_by_label("Race the two selected").click();
    h.run();
    assert_eq!(h.state().actions, vec![Action::Race(one, two)]);

    h.state_mut().actions.clear();
    h.get_by_label("Clear finished").click();
    h.run();
    assert_eq!(h.state().actions, vec![Action::ClearFinished]);

    // "show" on the second row shows that run.
    h.state_mut().actions.clear();
    let shows: Vec<_> = h.query_all_by_label("show").collect();
    assert_eq!(shows.len(), 2);
    shows[1].click();
    h.run();
    assert_eq!(h.state().actions, vec![Action::Show(two)]);
}

#[test]
fn the_race_draws_both_runs_and_a_removed_run_ends_it() {
    let mut bench = Bench::new(CompareView::default());
    let a = bench.add(gil_run(1));
    let b = bench.add(gil_run(2));
    bench.panel.start_race(a, b);
    let mut h = compare_harness(bench);
    h.run();
    assert!(h.query_by_label("Race").is_some());
    assert!(h.query_by_label("primes · gil · 1 worker · 3.13").is_some());
    assert!(
        h.query_by_label("primes · gil · 2 workers · 3.13")
            .is_some()
    );
    // Both finished: the race can be exported as an animation, and
    // closed, each by an action.
    h.get_by_label("Export animation…").click();
    h.run();
    assert_eq!(
        h.state().actions.last(),
        Some(&Action::Export(gilscope::ui::action::Export::Animation(
            a, b
        )))
    );
    h.get_by_label("Close race").click();
    h.run();
    assert_eq!(h.state().actions.last(), Some(&Action::CloseRace));
    // The runs are forgotten (Clear finished): the race closes itself
    // instead of drawing runs that are gone.
    h.state_mut().runs.remove_finished();
    h.run();
    assert!(h.state().panel.race().is_none());
    assert!(h.query_by_label("No runs yet.").is_some());
}

fn setup_harness(bench: Bench<SetupPanel>) -> Harness<'static, Bench<SetupPanel>> {
    Harness::builder()
        .with_size(egui::vec2(400.0, 900.0))
        .build_ui_state(
            |ui, b: &mut Bench<SetupPanel>| b.frame(ui, |p, ui, cx| p.ui(ui, cx)),
            bench,
        )
}

#[test]
fn setup_run_and_sweep_return_plans_and_bad_input_an_error() {
    let mut bench = Bench::new(SetupPanel::default());
    let found = bench.interpreters.clone();
    assert!(bench.panel.on_interpreters(&found).is_some(), "a describer");
    bench.panel.set_workers(3);
    bench.panel.set_repeat(2);
    let mut h = setup_harness(bench);
    h.run_steps(3);
    h.get_by_label("▶ Run").click();
    h.run_steps(3);
    let Some(Action::Start(batch)) = h.state().actions.last().cloned() else {
        panic!("{:?}", h.state().actions)
    };
    assert!(!batch.sweep);
    // gil, ft, subinterp, process are checked where an interpreter can run them.
    assert_eq!(
        batch.plan.modes,
        vec![Mode::Gil, Mode::Ft, Mode::Subinterp, Mode::Process]
    );
    assert_eq!(
        (batch.plan.workers.clone(), batch.plan.repeat),
        (vec![3], 2)
    );
    assert!(batch.plan.overhead_modes.is_empty());
    let ft = batch.plan.interpreters.iter().find(|p| p.mode == Mode::Ft);
    assert_eq!(ft.map(|p| p.name.as_str()), Some("3.13t"));

    h.get_by_label("Sweep").click();
    h.run_steps(3);
    let Some(Action::Start(batch)) = h.state().actions.last().cloned() else {
        panic!("{:?}", h.state().actions)
    };
    assert!(batch.sweep);
    assert_eq!(batch.plan.workers, vec![1, 2, 3]);

    // No mode ticked: an error, nothing started.
    for m in Mode::ALL {
        h.state_mut().panel.set_mode(m, false);
    }
    h.run_steps(3);
    h.get_by_label("▶ Run").click();
    h.run_steps(3);
    assert_eq!(
        h.state().actions.last(),
        Some(&Action::error("pick at least one mode"))
    );

    // While a run goes, the button stops it.
    h.state_mut().busy = true;
    h.run_steps(3);
    assert!(h.query_by_label("▶ Run").is_none());
    h.get_by_label("■ Stop").click();
    h.run_steps(3);
    assert_eq!(h.state().actions.last(), Some(&Action::Stop));
}

#[test]
fn live_view_draws_the_shown_run_and_a_failed_run_its_log() {
    let mut bench = Bench::new(LiveView::default());
    bench.add(gil_run(1));
    let two = bench.add(gil_run(2));
    let mut h = Harness::builder()
        .with_size(egui::vec2(1440.0, 900.0))
        .build_ui_state(
            |ui, b: &mut Bench<LiveView>| b.frame(ui, |p, ui, cx| p.ui(ui, cx)),
            bench,
        );
    h.run();
    assert_eq!(h.state().shown, Some(two));
    assert!(
        h.query_by_label("primes · gil · 2 workers · 3.13")
            .is_some()
    );
    assert!(h.query_by_label("speedup vs 1 worker").is_some());
    // vs 1 worker and vs 1 thread of the GIL build: the same run here.
    assert_eq!(h.query_all_by_label("2.00×").count(), 2);
    for title in ["Threads", "Memory (MiB)", "Throughput (items/s)"] {
        assert!(h.query_by_label(title).is_some(), "{title}");
    }
    assert!(h.query_by_label_contains("Traceback").is_none());

    // A run that crashed: its headline and the log section.
    let mut crashed = RunRecord::new(
        gilscope::store::fixtures::spec(&pythons()[0], Mode::Gil, 2),
        pythons()[0].clone(),
    );
    crashed.eat_message(gilscope::run::RunMessage::Finished(Box::new(
        gilscope::run::RunOutcome::not_started("no such file"),
    )));
    h.state_mut().add(crashed);
    h.run();
    // In the header's status line and in the red failure box.
    assert_eq!(
        h.query_all_by_label("crashed: could not start: no such file")
            .count(),
        2
    );
    // Nothing to unfold: said, instead of an empty "Traceback and log".
    assert!(
        h.query_by_label("(it wrote no traceback and no output)")
            .is_some()
    );
    assert!(h.query_by_label_contains("Traceback and log").is_none());

    // A run the user stopped: said neutrally, no failure box.
    let mut stopped = RunRecord::new(
        gilscope::store::fixtures::spec(&pythons()[0], Mode::Gil, 2),
        pythons()[0].clone(),
    );
    let mut outcome = gilscope::run::RunOutcome::not_started("unused");
    outcome.end = gilscope::run::RunEnd::Stopped;
    outcome.wall_secs = 2.5;
    outcome.exit = "killed by signal 9 (SIGKILL)".into();
    stopped.eat_message(gilscope::run::RunMessage::Finished(Box::new(outcome)));
    h.state_mut().add(stopped);
    h.run();
    assert!(
        h.query_by_label_contains("Stopped by you after 2.5 s")
            .is_some()
    );
    assert!(
        h.query_by_label_contains("SIGKILL").is_none(),
        "no crash wording"
    );
    assert!(h.query_by_label_contains("Traceback").is_none());
}

#[test]
fn the_app_applies_actions_to_its_state() {
    let ctx = egui::Context::default();
    let options = UiOptions {
        interpreters: Some(pythons()),
        ..UiOptions::default()
    };
    let mut app = App::new(&ctx, options);
    let a = app.add_finished(gil_run(1));
    let b = app.add_finished(gil_run(2));
    assert_eq!(app.shown(), Some(b));
    app.apply(Action::Show(a), &ctx);
    assert_eq!((app.shown(), app.view()), (Some(a), View::Live));
    app.apply(Action::Race(a, b), &ctx);
    assert_eq!(app.view(), View::Compare);
    assert!(app.compare().race().is_some());
    app.apply(Action::ClearFinished, &ctx);
    assert!(app.runs().is_empty());
    assert_eq!(app.shown(), None);
    // An id that is gone changes nothing.
    app.apply(Action::Show(a), &ctx);
    assert_eq!(app.shown(), None);
    app.apply(Action::error("bad parameter"), &ctx);
    let last = app.status().notices().last().expect("a notice");
    assert!(last.error && last.text == "bad parameter");
}

/// Every labelled widget of the race: inside the window, and no two
/// labels on top of each other; the runners side by side, each in its half.
fn race_layout_at(size: egui::Vec2) {
    use egui_kittest::kittest::NodeT as _;
    let mut bench = Bench::new(CompareView::default());
    let py = &pythons();
    let a = bench.add(Synth::new(Mode::Gil, 4).build(&py[0]));
    let mut slow = Synth::new(Mode::Process, 4);
    slow.chunks_per_worker = 14;
    let b = bench.add(slow.build(&py[0]));
    bench.panel.start_race(a, b);
    let mut h = Harness::builder().with_size(size).build_ui_state(
        |ui, b: &mut Bench<CompareView>| b.frame(ui, |p, ui, cx| p.ui(ui, cx)),
        bench,
    );
    // Let the replay run to its end (1 s of synthetic work at 4× speed).
    h.state_mut().panel.race_mut().unwrap().speed = 4.0;
    for _ in 0..40 {
        h.step();
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    h.state_mut().panel.race_mut().unwrap().t_s = 100.0;
    h.state_mut().panel.race_mut().unwrap().playing_since = None;
    h.run_steps(3);
    let window = egui::Rect::from_min_size(egui::Pos2::ZERO, size);
    let labels: Vec<(String, egui::Rect)> = h
        .root()
        .children_recursive()
        .filter_map(|n| {
            let node = n.accesskit_node();
            // A button's text is its label; a plain label's is its value.
            let text = node.label().or_else(|| node.value())?;
            Some((text, n.rect()))
        })
        .filter(|(l, _)| !l.is_empty())
        .collect();
    // A widget can appear as nested nodes with the same text and rect.
    let mut labels = labels;
    labels.dedup_by(|x, y| x == y);
    assert!(labels.len() > 10, "{labels:?}");
    for (label, rect) in &labels {
        assert!(
            window.expand(1.0).contains_rect(*rect),
            "{label:?} at {rect:?} is outside the {size:?} window"
        );
    }
    for (i, (la, ra)) in labels.iter().enumerate() {
        for (lb, rb) in &labels[i + 1..] {
            let overlap = ra.intersect(*rb);
            assert!(
                overlap.width() <= 1.0 || overlap.height() <= 1.0,
                "{la:?} {ra:?} overlaps {lb:?} {rb:?}"
            );
        }
    }
    let find = |text: &str| {
        labels
            .iter()
            .find(|(l, _)| l == text)
            .unwrap_or_else(|| panic!("no {text:?} in {labels:?}"))
            .1
    };
    let left = find("primes · gil · 4 workers · 3.13");
    let right = find("primes · process · 4 workers · 3.13");
    assert!(
        left.max.x <= size.x / 2.0 && right.min.x >= size.x / 2.0,
        "{left:?} {right:?}"
    );
    // Both finished: the winner with the margin, and each finish time.
    assert!(
        labels
            .iter()
            .any(|(l, _)| l.starts_with("gil wins by 0.200 s (1.40× faster")
                && l.ends_with("1 run: spread unknown)")),
        "{labels:?}"
    );
    // Start-up beside the work time, end to end beside the work ratio.
    assert!(
        labels
            .iter()
            .any(|(l, _)| l.starts_with("work 0.50 vs 0.70 s (1.40×") && l.contains("end to end")),
        "{labels:?}"
    );
    assert!(
        labels
            .iter()
            .any(|(l, _)| l.starts_with("⚑ finished at 0.500 s"))
    );
    assert!(
        labels
            .iter()
            .any(|(l, _)| l.starts_with("⚑ finished at 0.700 s"))
    );
}

#[test]
fn the_race_fits_its_halves_at_1440x900() {
    race_layout_at(egui::vec2(1440.0, 900.0));
}

#[test]
fn the_race_fits_its_halves_at_1920x1080() {
    race_layout_at(egui::vec2(1920.0, 1080.0));
}

/// Every piece of text a frame painted, with its size in points.
fn painted_text(output: &egui::FullOutput) -> Vec<(String, f32)> {
    fn walk(shape: &egui::Shape, out: &mut Vec<(String, f32)>) {
        match shape {
            egui::Shape::Text(t) => {
                for section in &t.galley.job.sections {
                    let text = t.galley.job.text.to_string();
                    if !text.trim().is_empty() {
                        out.push((text, section.format.font_id.size));
                    }
                }
            }
            egui::Shape::Vec(v) => v.iter().for_each(|s| walk(s, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    for clipped in &output.shapes {
        walk(&clipped.shape, &mut out);
    }
    out
}

#[test]
fn stage_mode_at_1920x1080_draws_no_text_under_24_px() {
    let ctx = egui::Context::default();
    let options = UiOptions {
        interpreters: Some(pythons()),
        presentation: true,
        ..UiOptions::default()
    };
    let mut app = App::new(&ctx, options);
    let a = app.add_finished(gil_run(1));
    let b = app.add_finished(gil_run(2));
    let mut h = Harness::builder()
        .with_size(egui::vec2(1920.0, 1080.0))
        .build_ui_state(|ui, app: &mut App| app.ui(ui), app);
    let mut seen = 0;
    for action in [
        Action::Show(b),
        Action::SetView(View::Compare),
        Action::Race(a, b),
    ] {
        let ctx = h.ctx.clone();
        h.state_mut().apply(action.clone(), &ctx);
        h.run_steps(4);
        let texts = painted_text(h.output());
        assert!(texts.len() > 10, "{action:?}: {texts:?}");
        let small: Vec<_> = texts.iter().filter(|(_, px)| *px < 24.0).collect();
        assert!(small.is_empty(), "{action:?}: text under 24 px: {small:?}");
        seen += texts.len();
    }
    assert!(seen > 50);
}

#[test]
fn settings_are_remembered_between_launches() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("app.json");
    let options = || UiOptions {
        interpreters: Some(pythons()),
        settings_file: Some(file.clone()),
        settings: gilscope::ui::settings::Settings::load(&file).unwrap(),
        ..UiOptions::default()
    };
    let mut h = Harness::builder()
        .with_size(egui::vec2(1440.0, 900.0))
        .build_ui_state(
            |ui, app: &mut App| app.ui(ui),
            App::new(&egui::Context::default(), options()),
        );
    h.run_steps(2);
    {
        let setup = h.state_mut().setup_mut();
        setup.set_workload("blur");
        setup.set_workers(7);
        setup.set_repeat(3);
        for m in Mode::ALL {
            setup.set_mode(m, matches!(m, Mode::Ft | Mode::Process));
        }
    }
    let ctx = h.ctx.clone();
    h.state_mut().apply(Action::SetDark(false), &ctx);
    // Saved at most once a second.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    h.run_steps(2);
    let saved = gilscope::ui::settings::Settings::load(&file)
        .unwrap()
        .expect("saved");
    assert_eq!(
        (
            saved.workload.as_str(),
            saved.workers,
            saved.repeat,
            saved.dark
        ),
        ("blur", 7, 3, false)
    );
    assert_eq!(saved.modes, vec![Mode::Ft, Mode::Process]);
    // The next launch starts where this one left off.
    let again = App::new(&egui::Context::default(), options());
    let setup = again.setup();
    assert_eq!(
        (setup.workload(), setup.workers(), setup.repeat()),
        ("blur", 7, 3)
    );
    let on: Vec<Mode> = setup.modes();
    assert_eq!(on, vec![Mode::Ft, Mode::Process]);
}

#[test]
fn opening_a_file_twice_adds_its_runs_once() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("run.json.gz");
    gil_run(2).save(&file).unwrap();
    let ctx = egui::Context::default();
    let options = UiOptions {
        interpreters: Some(pythons()),
        ..UiOptions::default()
    };
    let mut app = App::new(&ctx, options);
    for round in 1..=2 {
        app.apply(Action::Open(file.clone()), &ctx);
        let start = std::time::Instant::now();
        let wanted = if round == 1 {
            "opened 1 run(s)"
        } else {
            "already open"
        };
        while !app
            .status()
            .notices()
            .iter()
            .any(|n| n.text.contains(wanted))
        {
            assert!(
                start.elapsed().as_secs() < 20,
                "{:?}",
                app.status().notices()
            );
            app.pump();
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    }
    assert_eq!(app.runs().len(), 1);
}

#[test]
fn compare_headings_sort_the_rows() {
    let mut bench = Bench::new(CompareView::default());
    for workers in [2, 1, 4] {
        bench.add(gil_run(workers));
    }
    let mut h = compare_harness(bench);
    h.run();
    let order = |h: &Harness<'static, Bench<CompareView>>| {
        let mut rows: Vec<(f32, String)> = [1u64, 2, 3]
            .into_iter()
            .map(|n| {
                let r = h.get_by_label(&format!("select run {n}")).rect();
                (r.min.y, n.to_string())
            })
            .collect();
        rows.sort_by(|a, b| a.0.total_cmp(&b.0));
        rows.into_iter()
            .map(|(_, n)| n)
            .collect::<Vec<_>>()
            .join(",")
    };
    assert_eq!(order(&h), "1,2,3", "in the order they were added");
    h.get_by_label("workers").click();
    h.run();
    // Runs 1, 2, 3 have 2, 1, 4 workers.
    assert_eq!(order(&h), "2,1,3");
    h.get_by_label("workers ▲").click();
    h.run();
    assert_eq!(order(&h), "3,1,2");
}

/// A run whose picture is 8×4: the input, then the top half by worker 0.
fn picture_run() -> RunRecord {
    use gilscope::run::protocol::{Event, Picture, PictureBand, PictureGeometry};
    let mut run = gil_run(2);
    let geometry = PictureGeometry {
        width: 8,
        height: 4,
        scale: 1,
        full_width: 8,
        full_height: 4,
    };
    let band = |y: u32, worker: Option<usize>, t_ns: Option<u64>, grey: u8| PictureBand {
        x: 0,
        y,
        w: 8,
        h: 2,
        worker,
        chunk: worker.map(|w| w as u64),
        t_ns,
        rgb: vec![grey; 8 * 2 * 3],
    };
    let t0 = gilscope::store::fixtures::T0;
    let mut input = band(0, None, None, 200);
    input.h = 4;
    input.rgb = vec![200; 8 * 4 * 3];
    for event in [
        Picture {
            t_ns: t0,
            kind: "input".into(),
            geometry,
            input: Some(input),
            bands: vec![],
        },
        Picture {
            t_ns: t0 + 1,
            kind: "bands".into(),
            geometry,
            input: None,
            bands: vec![band(0, Some(0), Some(t0 + 1), 50)],
        },
    ] {
        run.eat_message(gilscope::store::fixtures::msg(Event::Picture(Box::new(
            event,
        ))));
    }
    run
}

#[test]
fn the_picture_shows_input_and_the_bands_computed_so_far() {
    let mut bench = Bench::new(LiveView::default());
    bench.add(picture_run());
    let mut h = Harness::builder()
        .with_size(egui::vec2(1440.0, 900.0))
        .build_ui_state(
            |ui, b: &mut Bench<LiveView>| b.frame(ui, |p, ui, cx| p.ui(ui, cx)),
            bench,
        );
    h.run();
    assert!(h.query_by_label("Picture").is_some());
    assert!(
        h.query_by_label("50 % computed").is_some(),
        "half the bands came"
    );
    assert!(h.query_by_label("input").is_some());
    assert!(
        h.query_by_label("output, filling in as chunks finish")
            .is_some()
    );
    assert!(h.query_by_label("tint by worker").is_some());
    // A run without a picture has no picture panel.
    h.state_mut().add(gil_run(1));
    h.run();
    assert!(h.query_by_label("Picture").is_none());
}

#[test]
fn the_story_caption_names_its_chapter_on_stage_in_24_px_and_more() {
    use gilscope::ui::AutoSweep;
    use gilscope::ui::options::{Chapter, Show};
    let chapter = |title: &str| Chapter {
        title: title.into(),
        note: "what to look at".into(),
        plan: AutoSweep {
            workload: "primes".into(),
            params: Vec::new(),
            modes: vec![Mode::Gil],
            workers: vec![1, 2],
            repeat: 1,
        },
        show: Show::Race,
        shot: "x.png".into(),
    };
    let ctx = egui::Context::default();
    let options = UiOptions {
        interpreters: Some(pythons()),
        presentation: true,
        story: vec![chapter("The first chapter"), chapter("The second one")],
        ..UiOptions::default()
    };
    let app = App::new(&ctx, options);
    let mut h = Harness::builder()
        .with_size(egui::vec2(1920.0, 1080.0))
        .build_ui_state(|ui, app: &mut App| app.ui(ui), app);
    h.run_steps(4);
    let texts = painted_text(h.output());
    for want in ["1 / 2", "The first chapter", "what to look at"] {
        assert!(texts.iter().any(|(t, _)| t == want), "{want}: {texts:?}");
    }
    let small: Vec<_> = texts.iter().filter(|(_, px)| *px < 24.0).collect();
    assert!(small.is_empty(), "text under 24 px: {small:?}");
}
