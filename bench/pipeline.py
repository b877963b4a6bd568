"""What the benches that run ``amcli optimize`` measure: the paths of the optimize command's
import closure (bench/closure.py), as path prefixes that a module moved or split within them
stays under; tests/test_bench_results.py checks that they cover the closure, less the modules
named figure-free here."""

from __future__ import annotations

#: the optimize command and every module it imports, less the corpus generator's schema and
#: defaults: the config package registers every command's schema, but optimize composes only its
#: own (the corpus generator itself is measured by the benches that render a corpus: CORPUS)
OPTIMIZE = ("amcli/am", "amcli/activity.py", "amcli/models", "amcli/metrics/__init__.py",
            "amcli/metrics/attribution.py", "amcli/metrics/cues.py",
            "amcli/metrics/faithfulness.py", "amcli/metrics/frechet.py", "amcli/metrics/judge.py",
            "amcli/metrics/masks.py", "amcli/metrics/sanity.py", "amcli/metrics/summary.py",
            "amcli/metrics/verdicts.py", "amcli/features.py", "amcli/audio.py",
            "amcli/data/__init__.py", "amcli/data/base.py", "amcli/data/datasets.py",
            "amcli/data/spec.py", "amcli/config", ":(exclude-def)SynthConfig",
            "amcli/train", "amcli/bounds.py", "amcli/families.py",
            "amcli/resources.py", "amcli/device.py", "amcli/workers.py",
            "amcli/commands/__init__.py", "amcli/commands/aliases.py",
            "amcli/commands/optimize.py", "amcli/commands/optimize_args.py",
            "amcli/commands/common.py", "amcli/report/__init__.py", "amcli/report/items.py",
            "amcli/report/run.py", "amcli/report/terminal.py", "checkpoints", "conf",
            ":(exclude)conf/synth.yaml")

#: imported by the optimize command, but they write no figure a bench records: the package's
#: version and lazy exports, errors, the run folder's files, markers and log, the sweep summary,
#: the HTML report and the record's types (they check a record, never change one)
FIGURE_FREE = ("amcli/__init__.py", "amcli/errors.py", "amcli/files.py",
               "amcli/invocation.py", "amcli/run_folder.py", "amcli/report/outputs.py",
               "amcli/report/record.py",
               "amcli/report/sweep.py", "amcli/report/html.py", "amcli/report/plots.py")

#: the corpus generator, for the benches that render a corpus (a reference or a spread): the
#: modules write_corpus runs (not the package's version and lazy exports), so a new kind of corpus
#: beside it leaves their results current
CORPUS = ("module:amcli.data.synth.corpus", ":(exclude)amcli/__init__.py")
