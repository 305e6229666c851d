"""The ``mitkit`` command line: argparse only; every sub-command calls the Python API.

    mitkit demo                      transcribe the bundled example and show the result
    mitkit transcribe AUDIO ... --instruments {1..8|auto} --out DIR [--report] [--overwrite]
    mitkit synth --out DIR --hours H ...     render synthetic training data
    mitkit train --preset base --data DIR --run DIR [--resume]
    mitkit evaluate / mitkit bench           accuracy and speed against the baselines
"""
from __future__ import annotations

import argparse
import logging
import sys
import warnings
from pathlib import Path

from mitkit.constants import TRAINING_STAGES
from mitkit.errors import MitkitError
from mitkit.files import check_writable
from mitkit.processes import parse_shard
from mitkit.synth.commands import add_synth_commands
from mitkit.version import __version__


def _instruments(value: str):
    from mitkit.instrument_count import check_instruments
    try:
        return check_instruments(value, name="--instruments")
    except MitkitError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def _add_transcription_options(p):
    p.add_argument("--instruments", "-k", type=_instruments, default="auto",
                   help="number of instruments (tracks) K, 1..8; 'auto' counts lines and chord-playing instruments (default; "
                        "the reason is printed); "
                        "'voices' counts notes sounding at once (for instruments that play one note at a time)")
    p.add_argument("--checkpoint", default=None,
                   help="model checkpoint (.pt, or .onnx from `mitkit export-onnx`) instead of the bundled model")
    p.add_argument("--backend", choices=("auto", "torch", "onnx"), default="auto",
                   help="runtime of the network: PyTorch, onnxruntime (float32; all a light install has), or "
                        "'auto' (default): PyTorch where it is installed and computes bf16 natively, else onnxruntime")
    p.add_argument("--clustering", choices=("note", "frame"), default="note",
                   help="note-level clustering (default) or the frame-level comparison method")
    p.add_argument("--onset-threshold", type=_probability, default=None,
                   help="onset probability (0..1) that starts a note (default: the checkpoint's tuned value)")
    p.add_argument("--frame-threshold", type=_probability, default=None,
                   help="frame probability (0..1) above which a note keeps sounding (default: tuned value)")
    p.add_argument("--min-note-frames", type=_positive_int, default=None,
                   help="shortest note kept, in frames of 11.6 ms (default: tuned value, about 8)")
    p.add_argument("--reonset-threshold", type=_probability, default=None,
                   help="onset probability (0..1) that splits a sounding note into a repeated one "
                        "(default: the checkpoint's tuned value; off when it has none)")
    p.add_argument("--onset-lookback", type=_non_negative_int, default=None,
                   help="frames (11.6 ms) a note's start may move back to the onset peak it grew from, where the "
                        "frame probability rose late (slow attacks); 0 turns it off (default: 24)")


def _probability(value: str) -> float:
    try:
        x = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} must be a number in (0, 1]") from None
    if not 0.0 < x <= 1.0:
        raise argparse.ArgumentTypeError(f"{x} must be a number in (0, 1]")
    return x


def _int_at_least(minimum: int):
    """An argparse type: an integer >= ``minimum``, with a message that says so."""
    def parse(value: str) -> int:
        try:
            k = int(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{value!r} must be an integer >= {minimum}") from None
        if k < minimum:
            raise argparse.ArgumentTypeError(f"{k} must be an integer >= {minimum}")
        return k
    return parse


_positive_int, _non_negative_int = _int_at_least(1), _int_at_least(0)


def _cmd_transcribe(args):
    from mitkit.corpus import find_inputs, plan_outputs, shard, transcribe_corpus

    inputs = find_inputs(args.audio, recursive=args.recursive)
    if args.shard:
        inputs = shard(inputs, *args.shard)
    plans = plan_outputs(inputs, args.out, report=args.report, overwrite=args.overwrite,
                         skip_existing=args.skip_existing)
    settings = {"instruments": args.instruments, "checkpoint": args.checkpoint, "clustering": args.clustering,
                "onset_threshold": args.onset_threshold, "frame_threshold": args.frame_threshold,
                "min_note_frames": args.min_note_frames, "reonset_threshold": args.reonset_threshold,
                "onset_lookback": args.onset_lookback, "backend": args.backend}
    summary = transcribe_corpus(inputs, plans, settings, overwrite=args.overwrite, jobs=args.jobs)
    done, skipped, failed = summary["done"], summary["skipped"], summary["failed"]
    if len(plans) > 1 or failed or skipped:
        print(f"{len(done)} transcribed, {len(skipped)} skipped (outputs exist), {len(failed)} failed")
    if failed:
        raise MitkitError(f"{len(failed)} of {len(plans)} inputs failed: {', '.join(map(str, failed))}")


def _cmd_demo(args):
    from mitkit.demo import run_demo
    run_demo(out=Path(args.out), instruments=args.instruments, overwrite=args.overwrite)


def _cmd_train(args):
    from mitkit.training.trainer import TrainConfig, Trainer
    if args.keep_recall_on and not args.tune_on:
        raise MitkitError("--keep-recall-on guards the tuning after training: give --tune-on too")
    model = {k: v for k, v in {"onset_reads_cqt": args.onset_reads_cqt or None,
                               "onset_channels": args.onset_channels,
                               "amt_channels": args.amt_channels}.items() if v is not None}
    from dataclasses import fields
    # every option spelt as a TrainConfig field sets it (a new option needs no entry here); None: not given
    chosen = {f.name: getattr(args, f.name) for f in fields(TrainConfig) if hasattr(args, f.name)}
    chosen.update(num_workers=args.workers, model=model or None)
    if args.data and len(args.data) == 1:
        chosen["data"] = args.data[0]  # one folder is stored as before: a path, not a list
    overrides = {k: v for k, v in chosen.items() if v is not None}
    cfg = TrainConfig.preset(args.preset, **overrides)
    run = Path(args.run)
    if (run / "last.pt").exists() and not args.resume:
        raise MitkitError(f"--run={str(run)!r} already holds a run: pass --resume to continue it, "
                          "or choose another folder")
    trainer = Trainer(cfg, run, device=args.device)
    if args.resume and (run / "last.pt").exists():
        trainer.resume(lr=args.lr)  # a --lr given on resuming replaces the rate the run had reached
    trainer.run(time_limit=args.time_limit)
    trainer.close()
    if args.tune_on and trainer.rank == 0:
        from mitkit.training.tuning import tune_checkpoint
        _print_tuning(run / "best.pt", tune_checkpoint(run / "best.pt", args.tune_on, device=args.device or "cpu",
                                                       keep_recall_on=args.keep_recall_on))
    if trainer.rank == 0:  # under torchrun every rank returns here; one line says the run is done
        print(f"done: {run / 'best.pt'}")


def _add_keep_recall_on(p, when: str = ""):
    p.add_argument("--keep-recall-on", nargs="+", default=[], metavar="BENCHMARK",
                   help=when + "validation benchmark folders (e.g. notes played at their written length) on which "
                        "the tuned thresholds must lower no recall of repeated, short or other notes below the "
                        "checkpoint's present thresholds (without any: below the threshold grid's best)")


def _cmd_tune(args):
    from mitkit.checkpoint import bundled_checkpoint_path
    from mitkit.training.tuning import tune_checkpoint
    if Path(args.checkpoint).resolve() == bundled_checkpoint_path().resolve():
        raise MitkitError("checkpoint must not be the bundled model: tune a copy of it "
                          "(the bundled one is part of the installed package)")
    if args.recall_floor_from and not args.keep_recall_on:
        raise MitkitError("--recall-floor-from sets the floor on the --keep-recall-on benchmarks: give those too")
    _print_tuning(args.checkpoint, tune_checkpoint(args.checkpoint, args.on, device=args.device,
                                                   keep_recall_on=args.keep_recall_on,
                                                   recall_floor_from=args.recall_floor_from, weigh=args.weigh))


def _print_tuning(checkpoint, thresholds: dict):
    """The tuned thresholds, the validation scores they reach, and what a recall guard cost (the threshold
    grid's best note F1 without it), so that a guard that ruins the notes does not pass unseen."""
    from mitkit.checkpoint import load_checkpoint
    metrics = load_checkpoint(checkpoint).get("metrics", {})
    print("tuned thresholds:", thresholds)
    if "val_note_f1" not in metrics:
        return
    f1, unguarded = metrics["val_note_f1"], metrics.get("val_grid_note_f1_unguarded", 0.0)
    print(f"validation: note F1 {f1:.3f}, note precision {metrics['val_note_precision']:.3f}, "
          f"separation F1 {metrics['val_separation_f1']:.3f}")
    if unguarded > f1 + 0.0005:
        print(f"warning: the recall guard (--keep-recall-on) costs note F1: the threshold grid alone reaches "
              f"{unguarded:.3f} without it, against {f1:.3f} with it")


def _cmd_export_onnx(args):
    from mitkit.onnx_export import OPSET, export_onnx
    print(f"wrote {export_onnx(args.out, checkpoint=args.checkpoint, overwrite=args.overwrite)} (opset {OPSET})")


def _cmd_bench(args):
    from mitkit.evaluation.speed import run_bench
    from mitkit.evaluation.speed_report import format_results, write_results

    if args.out:
        check_writable(args.out, overwrite=args.overwrite, name="--out")
    options = {"lengths": args.lengths, "systems": args.systems, "instruments": args.instruments,
               "checkpoint": args.checkpoint, "repeats": args.repeats, "long_repeats": args.long_repeats,
               "warmup": args.warmup, "audio": args.audio, "threads": args.threads}
    results = run_bench(**{k: v for k, v in options.items() if v is not None}, stages=not args.no_stages)
    print(format_results(results))
    if args.out:
        print(f"wrote {write_results(results, args.out, overwrite=args.overwrite)}")


def _add_evaluate_command(sub):
    """``mitkit evaluate``: a checkpoint and the baselines side by side on a benchmark (:mod:`mitkit.evaluation.systems`)."""
    from mitkit.evaluation.systems import BENCHMARK_ENV, COUNT_MODES, SYSTEM_NAMES, default_benchmark

    def _cmd_evaluate(args):
        import json

        from mitkit.evaluation.benchmarks import format_markdown_table
        from mitkit.evaluation.systems import evaluate_systems

        if args.benchmark is None:
            raise MitkitError(f"--benchmark must be given (or ${BENCHMARK_ENV} set): build the chorale benchmark "
                              "with `mitkit chorale-bench --out DIR`, or pass a folder of audio + MIDI pairs")
        out = check_writable(args.out, overwrite=args.overwrite, name="--out") if args.out else None
        if args.limit is not None and args.limit < 1:
            raise MitkitError(f"--limit={args.limit} must be a positive number of mixes")
        report = evaluate_systems(args.benchmark, systems=args.systems, checkpoint=args.checkpoint, count=args.count,
                                  limit=args.limit, device=args.device)
        print(format_markdown_table(report["results"]))
        if report["thresholds"] is not None:
            source = ("tuned, from the checkpoint" if report["thresholds_tuned"]
                      else "mitkit defaults: the checkpoint has none")
            print(f"\nmitkit thresholds ({source}): {report['thresholds']}")
        if out is not None:
            out.parent.mkdir(parents=True, exist_ok=True)
            # numpy scalars (e.g. in a checkpoint's thresholds) as plain numbers
            out.write_text(json.dumps(report, indent=1, default=lambda o: o.item() if hasattr(o, "item") else str(o))
                           + "\n")
            print(f"wrote {out}")

    def _systems(value):
        from mitkit.evaluation.systems import parse_system_names
        try:
            return parse_system_names(value)
        except MitkitError as err:
            raise argparse.ArgumentTypeError(str(err)) from None

    default = default_benchmark()
    p = sub.add_parser(
        "evaluate", help="accuracy of a model and the baselines on a benchmark (markdown table, JSON)",
        description="Run mitkit (the bundled model or --checkpoint, with the checkpoint's tuned thresholds) and the "
                    "baselines on every mix of a benchmark; print a markdown table of frame / note / separation F1, "
                    "instrument-count accuracy and real-time factor per number of parts, and optionally write "
                    "everything (per-mix records included) as JSON. Systems: mitkit = note-level clustering, with "
                    "the true part count (oracle), an estimated one (auto) or the number of simultaneous voices "
                    "(voices); mitkit-frame = frame-level clustering; pitch-order and random = mitkit's notes split by pitch rank or at random; "
                    "basic-pitch = Spotify's basic-pitch 0.4.0 (ONNX), instrument-agnostic.",
        epilog=f"The benchmark: build the chorale benchmark with `mitkit chorale-bench --out DIR` (renders "
               f"test-split chorales with FluidSynth), then pass --benchmark DIR or set {BENCHMARK_ENV}=DIR. "
               f"A folder of audio files with same-named MIDI files (one part per instrument) works too.")
    p.add_argument("--checkpoint", default=None, help="model checkpoint (.pt) to evaluate (default: the bundled model)")
    p.add_argument("--benchmark", default=default, metavar="DIR",
                   help=f"benchmark folder (index.json from `mitkit chorale-bench`, or audio + MIDI pairs); "
                        f"default: ${BENCHMARK_ENV}" + (f" = {default}" if default else " (not set)"))
    p.add_argument("--systems", type=_systems, default="all", metavar="NAMES",
                   help=f"comma-separated systems among {','.join(SYSTEM_NAMES)}, or 'all' (default)")
    p.add_argument("--count", choices=COUNT_MODES, default="all",
                   help="part count given to mitkit's note-level system: the true one (oracle), estimated from "
                        "timbre (auto), counted as simultaneous voices (voices), oracle+auto (both) or all three "
                        "(all, default); auto and voices report count accuracy; the other systems always get "
                        "the true count")
    p.add_argument("--limit", type=int, default=None, metavar="N", help="evaluate only the first N mixes")
    p.add_argument("--device", default="cpu", help="torch device of the mitkit network (default: cpu)")
    p.add_argument("--out", "-o", default=None, help="also write the results as JSON to this file")
    p.add_argument("--overwrite", action="store_true", help="replace --out if it exists")
    p.set_defaults(func=_cmd_evaluate)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mitkit", description="Lightweight multi-instrument music transcription: "
                                     "notes grouped into one track per instrument.")
    parser.add_argument("--version", action="version", version=f"mitkit {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("transcribe", help="transcribe audio files into multi-track MIDI and JSON",
                       description="Transcribe audio files. For each AUDIO, writes DIR/<name>.mid (one MIDI "
                                   "track per instrument) and DIR/<name>.json (notes with onset/offset in seconds).")
    p.add_argument("audio", nargs="+", help="audio files (WAV, FLAC, OGG, MP3; any sample rate, mono or multichannel), "
                                            "or folders of them with --recursive")
    p.add_argument("--recursive", "-r", action="store_true",
                   help="search folders for audio files; outputs mirror each folder's tree under --out")
    p.add_argument("--jobs", "-j", type=_positive_int, default=1,
                   help="worker processes (each gets an equal share of the CPU cores)")
    p.add_argument("--shard", type=parse_shard, default=None, metavar="i/N",
                   help="transcribe only inputs i, i+N, i+2N, ... of the sorted list: N machines split a corpus")
    p.add_argument("--out", "-o", required=True, help="output folder (created if missing)")
    p.add_argument("--report", action="store_true",
                   help="also write DIR/<name>.html: an offline page with the piano roll by track and the posteriorgram")
    p.add_argument("--overwrite", action="store_true", help="replace output files that already exist")
    p.add_argument("--skip-existing", action="store_true",
                   help="skip inputs whose outputs all exist already (resume an interrupted batch)")
    _add_transcription_options(p)
    p.set_defaults(func=_cmd_transcribe)

    p = sub.add_parser("demo", help="transcribe the bundled example and compare with its ground truth")
    p.add_argument("--out", "-o", default="mitkit-demo", help="output folder (default: ./mitkit-demo)")
    p.add_argument("--instruments", "-k", type=_instruments, default="auto", help="K, 1..8, 'auto' (default) or 'voices'")
    p.add_argument("--overwrite", action="store_true", help="replace earlier demo outputs")
    p.set_defaults(func=_cmd_demo)

    p = sub.add_parser("train", help="train a model on a dataset made by `mitkit synth`")
    p.add_argument("--preset", default="base", help="training preset: tiny or base (default)")
    p.add_argument("--data", nargs="+", default=None,
                   help="dataset folder (with manifest.json), or several trained on together (e.g. a general "
                        "one and a `mitkit synth --recipe chamber` supplement): pieces drawn by length")
    p.add_argument("--run", required=True, help="run folder for checkpoints (last.pt, best.pt) and log.csv")
    p.add_argument("--resume", action="store_true", help="continue the run in --run from its last checkpoint")
    p.add_argument("--init", default=None, metavar="CHECKPOINT",
                   help="start from this checkpoint's weights ('bundled': the shipped model) to fine-tune; its "
                        "tuned settings are kept while they apply (note thresholds unless --fresh amt; "
                        "clustering temperature and polyphony classifier with --stage amt) until `mitkit tune`")
    p.add_argument("--steps", type=int, default=None, help="total optimizer steps (overrides the preset)")
    p.add_argument("--batch-size", type=int, default=None, help="mixtures per step and process")
    p.add_argument("--stage", choices=tuple(TRAINING_STAGES), default=None,
                   help="which branches learn; 'onset': only the AMT branch's onset layers (with --init: the frame "
                        "posterior stays exactly as it was)")
    p.add_argument("--lr", type=float, default=None,
                   help="AdamW learning rate (with --resume: the run continues at this rate)")
    p.add_argument("--seed", type=int, default=None, help="random seed")
    p.add_argument("--timbre-loss", choices=("infonce", "deep_clustering"), default=None,
                   help="contrastive loss of the timbre branch (deep_clustering is the ablation)")
    p.add_argument("--eval-every", type=int, default=None, help="steps between validations and checkpoints")
    p.add_argument("--workers", type=int, default=None, help="data-loading processes")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    p.add_argument("--device", default=None, help="cpu or cuda (default: cuda if available)")
    p.add_argument("--precision", choices=("auto", "bf16", "fp32"), default=None,
                   help="'auto' (default) trains the branches in bfloat16 on CPUs with native bf16 "
                        "(about 2.5x faster), float32 elsewhere")
    p.add_argument("--compile", choices=("auto", "on", "off"), default=None,
                   help="torch.compile the branches for training: 'auto' (the base preset's default) on a CPU "
                        "with a C++ compiler (about 1.6x faster after a 90-s compilation); the tiny preset: off")
    p.add_argument("--reattack-weight", type=float, default=None,
                   help="onset-loss weight of re-attacks (a repeated note without a gap) relative to other "
                        "onsets (default 1)")
    p.add_argument("--onset-alpha", type=_probability, default=None,
                   help="positive-class weight of the onset loss, in (0, 1) (default 0.06, the paper's; larger "
                        "values make the onset posterior reach its thresholds, re-attacks included)")
    p.add_argument("--onset-spread", type=_non_negative_int, default=None,
                   help="frames either side of each onset that the onset target also marks (default 0: the "
                        "onset frame alone; 1 gives a three-frame target a slow attack can meet)")
    p.add_argument("--onset-reads-cqt", action="store_true",
                   help="the onset features also read the stacked CQT, not only the trunk's (more re-attacks found)")
    p.add_argument("--onset-channels", type=_positive_int, default=None,
                   help="number of onset features (the init's, or 7); onset layers wider than the --init's (also by "
                        "--onset-reads-cqt) start with their new weights unread: training begins from its onsets")
    p.add_argument("--amt-channels", type=_positive_int, default=None,
                   help="width of the note-finding (AMT) branch (default 16, as shipped); another width trains "
                        "from scratch: without --init, or with --init X --fresh amt (X's timbre branch kept)")
    p.add_argument("--fresh", choices=("amt", "timbre"), default=None,
                   help="with --init: this branch starts from scratch all the same (e.g. --init bundled --fresh "
                        "amt --stage amt learns transcription anew and keeps the bundled timbre branch)")
    p.add_argument("--timbre-frames", type=_non_negative_int, default=None,
                   help="run the timbre branch on a random window of this many frames of each training clip "
                        "(0, the default: the whole clip); its loss samples a few hundred bins per clip")
    p.add_argument("--min-instruments", type=_positive_int, default=None,
                   help="fewest stems in a training mixture (default 1; 2 for --stage timbre, whose loss learns "
                        "nothing from one stem)")
    p.add_argument("--time-limit", type=float, default=None, help="stop (and checkpoint) after this many seconds")
    p.add_argument("--select-on", default=None, nargs="+", metavar="BENCHMARK",
                   help="keep the AMT branch with the best note F1 over the mixes of these validation benchmark "
                        "folders, e.g. one per sound-source family (`mitkit chorale-bench --soundfont`), notes made at the "
                        "--init checkpoint's tuned thresholds while the run keeps them (else at the best of onset "
                        "thresholds 0.3-0.8 with create_notes' other defaults; the run's log.csv has the recall of repeated, short and other notes on each "
                        "beside it); default: the lowest validation loss on synthetic mixtures")
    p.add_argument("--tune-on", default=None, nargs="+", metavar="BENCHMARK",
                   help="afterwards, tune note thresholds on these validation-split benchmark folders (each counts the "
                        "same, as with `mitkit tune --weigh benchmarks`)")
    _add_keep_recall_on(p, "with --tune-on: ")
    p.set_defaults(func=_cmd_train)

    p = sub.add_parser("tune", help="tune a checkpoint's note thresholds and clustering on validation benchmarks",
                       description="Choose the note-creation thresholds and the clustering temperature that score "
                                   "best on validation-split benchmark folders (`mitkit chorale-bench --split "
                                   "validation`), and store them in the checkpoint (which is rewritten).")
    p.add_argument("checkpoint", help="checkpoint (.pt) to tune; it is updated in place")
    p.add_argument("--on", nargs="+", required=True, metavar="BENCHMARK", help="validation benchmark folders")
    p.add_argument("--weigh", choices=("benchmarks", "mixes"), default="benchmarks",
                   help="'benchmarks' (default): each folder of --on counts the same, whatever its number of mixes "
                        "(a folder stands for a kind of music); 'mixes': every mix counts the same (folders pooled)")
    _add_keep_recall_on(p)
    p.add_argument("--recall-floor-from", default=None, metavar="CHECKPOINT",
                   help="with --keep-recall-on: the floor is what this checkpoint ('bundled': the shipped model) finds "
                        "there with its own thresholds, less one standard error of each recall, not the tuned checkpoint's "
                        "present thresholds (for a model that would replace it)")
    p.add_argument("--device", default="cpu", help="torch device of the network (default: cpu)")
    p.set_defaults(func=_cmd_tune)

    p = sub.add_parser("export-onnx", help="write the network (CQT included) as an ONNX model",
                       description="Export a checkpoint's network to ONNX (any audio length; thresholds and the "
                                   "count's classifier in its metadata), for onnxruntime and other runtimes.")
    p.add_argument("out", help="ONNX file to write")
    p.add_argument("--checkpoint", default=None, help="checkpoint (.pt) to export (default: the bundled model)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing file")
    p.set_defaults(func=_cmd_export_onnx)
    add_synth_commands(sub)

    p = sub.add_parser("bench", help="speed and peak memory of mitkit against basic-pitch, stage by stage",
                       description="Time mitkit (AMT only, and full separation with K given) and basic-pitch 0.4.0 "
                                   "on the same audio at several lengths; print a markdown table with real-time "
                                   "factors, peak RSS (a fresh process per system and length), the time ratios "
                                   "mitkit / basic-pitch and mitkit's stage breakdown.")
    p.add_argument("--lengths", type=float, nargs="+", metavar="SECONDS",
                   help="audio lengths in seconds (default: 10 60 600)")
    p.add_argument("--systems", nargs="+", choices=("mitkit-amt", "mitkit-full", "basic-pitch"),
                   help="systems to run (default: all three)")
    p.add_argument("--instruments", "-k", type=int, help="K given to the full system, 2..8 (default: 4)")
    p.add_argument("--checkpoint", default=None,
                   help="model checkpoint (.pt); default: the bundled model")
    p.add_argument("--repeats", type=int, help="timed runs per system and length; the median is reported (default: 3)")
    p.add_argument("--long-repeats", type=int, help="timed runs for lengths over 2 minutes (default: 1)")
    p.add_argument("--warmup", type=int, help="untimed warm-up runs on <= 10 s of audio (default: 1)")
    p.add_argument("--audio", default=None,
                   help="audio file to loop to each length (default: the bundled example, else a synthetic signal)")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's default)")
    p.add_argument("--no-stages", action="store_true", help="skip mitkit's stage breakdown (saves time)")
    p.add_argument("--out", "-o", default=None, help="also write the results as JSON to this file")
    p.add_argument("--overwrite", action="store_true", help="replace --out if it exists")
    p.set_defaults(func=_cmd_bench)
    _add_evaluate_command(sub)
    return parser


#: packages of the extras (package -> extra): a light install lacks them
OPTIONAL_PACKAGES = {"torch": "torch", "onnx": "onnx", "onnxscript": "onnx", "fluidsynth": "synth",
                     "music21": "synth", "umap": "notebooks", "ipywidgets": "notebooks"}


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(message)s")
    try:
        args.func(args)
    except MitkitError as err:
        print(f"mitkit {args.command}: error: {err}", file=sys.stderr)
        return 2
    except ModuleNotFoundError as err:
        if err.name not in OPTIONAL_PACKAGES:
            raise
        print(f"mitkit {args.command}: error: this command needs {err.name}, which this install lacks: "
              f"pip install 'mitkit[{OPTIONAL_PACKAGES[err.name]}]'", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    warnings.simplefilter("default")
    sys.exit(main())
