"""The synthetic emotional-speech corpus: classes whose causes are known by construction.

Real emotional speech (RAVDESS, TESS, CREMA-D) and pretrained weights cannot be downloaded on
these machines, so amcli renders its own corpus: it trains the demo checkpoints, and because each
class is made of known cues it lets us check that activation maximization finds them.
"""

from amcli.data.synth.corpus import (
    COLUMNS,
    ENGINES,
    METADATA,
    SENTENCES,
    ClipPlan,
    plan_corpus,
    read_metadata,
    render_clip,
    validate_request,
    write_corpus,
)
from amcli.data.synth.cues import PROFILES, SYNTH_CLASSES, CueParams, sample_cues
from amcli.data.synth.speakers import Speaker, all_speakers, select_speakers

__all__ = [
    "COLUMNS", "ENGINES", "METADATA", "PROFILES", "SENTENCES", "SYNTH_CLASSES", "ClipPlan",
    "CueParams", "Speaker", "all_speakers", "plan_corpus", "read_metadata", "render_clip",
    "sample_cues", "select_speakers", "validate_request", "write_corpus",
]
