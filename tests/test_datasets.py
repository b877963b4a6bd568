"""Dataset layouts, label mapping, unreadable files and speaker-independent splits, on tiny fake
trees in each dataset's exact layout."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from amcli.data.base import crop_or_pad, split_by_group
from amcli.data.spec import DataConfig, DatasetName, SplitConfig, list_items, make_splits
from amcli.data.synth import write_corpus
from amcli.errors import UserError


def clip(path: Path, seconds: float = 0.6, rate: int = 16000) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    t = np.arange(int(seconds * rate)) / rate
    sf.write(path, (0.3 * np.sin(2 * np.pi * 200 * t)).astype(np.float32), rate)


def config(name: str, root: Path, **kwargs) -> DataConfig:
    return DataConfig(name=DatasetName(name), root=str(root), **kwargs)


@pytest.fixture
def ravdess(tmp_path) -> Path:
    root = tmp_path / "RAVDESS"
    for actor in range(1, 7):
        folder = root / f"Actor_{actor:02d}"
        for emotion in range(1, 9):
            for rep in (1, 2):
                clip(folder / f"03-01-{emotion:02d}-01-01-{rep:02d}-{actor:02d}.wav")
            clip(folder / f"03-02-{emotion:02d}-01-01-01-{actor:02d}.wav")  # song
        clip(folder / f"01-01-05-01-01-01-{actor:02d}.wav")  # audio-visual modality
    return root


def test_ravdess_layout_and_label_mapping(ravdess):
    items = list_items(config("ravdess", ravdess))
    # speech, audio-only: 4 of 8 emotions x 2 repetitions x 6 actors; calm, song, AV dropped
    assert len(items) == 4 * 2 * 6
    assert {i.label for i in items} == {"neutral", "happy", "sad", "angry"}
    assert {i.speaker for i in items} == {f"actor{a:02d}" for a in range(1, 7)}
    by_name = {i.path.name: i.label for i in items}
    assert by_name["03-01-05-01-01-01-03.wav"] == "angry"
    assert by_name["03-01-03-01-01-02-04.wav"] == "happy"

    calm = list_items(config("ravdess", ravdess, label_map={"calm": "neutral"}))
    assert sum(i.label == "neutral" for i in calm) == 2 * 2 * 6
    songs = list_items(config("ravdess", ravdess, include_song=True))
    assert len(songs) == len(items) + 4 * 6
    two = list_items(config("ravdess", ravdess, classes=["sad", "angry"],
                            label_map={"fearful": "sad"}))
    assert {i.label for i in two} == {"sad", "angry"} and len(two) == 3 * 2 * 6
    assert {i.target for i in two} == {0, 1}


def test_label_map_onto_an_unknown_class_is_refused(ravdess):
    with pytest.raises(UserError, match="unknown class"):
        list_items(config("ravdess", ravdess, label_map={"calm": "relaxed"}))


@pytest.fixture
def tess(tmp_path) -> Path:
    root = tmp_path / "TESS"
    folders = {"OAF_angry": "angry", "OAF_Fear": "fear", "OAF_happy": "happy",
               "OAF_neutral": "neutral", "OAF_Sad": "sad", "OAF_Pleasant_surprise": "ps",
               "YAF_angry": "angry", "yaf_happy": "happy", "YAF_neutral": "neutral",
               "YAF_sad": "sad", "YAF_pleasant_surprised": "ps", "YAF_disgust": "disgust"}
    words = ["back", "bath", "bean", "beg", "bite", "boat", "bone", "book"]
    for folder, emotion in folders.items():
        speaker = folder[:3].upper()
        for word in words:
            clip(root / folder / f"{speaker}_{word}_{emotion}.wav")
    return root


def test_tess_label_from_file_name_and_split_by_word(tess, caplog):
    with caplog.at_level(logging.WARNING):
        items = list_items(config("tess", tess))
    assert "splitting by word" in caplog.text
    assert {i.label for i in items} == {"neutral", "happy", "sad", "angry"}
    assert len(items) == 8 * 8  # 4 classes x 2 speakers x 8 words
    assert {i.speaker for i in items} == {"OAF", "YAF"}
    assert {i.group for i in items} == {f"word:{w}" for w in
                                        ["back", "bath", "bean", "beg", "bite", "boat", "bone",
                                         "book"]}
    surprised = list_items(config("tess", tess, label_map={"surprised": "happy"}))
    assert sum(i.label == "happy" for i in surprised) == 4 * 8
    splits = make_splits(config("tess", tess))
    words = [{i.group for i in splits[s]} for s in ("train", "val", "test")]
    assert all(words) and not (words[0] & words[1] or words[0] & words[2] or words[1] & words[2])


@pytest.fixture
def cremad(tmp_path) -> Path:
    root = tmp_path / "CREMA-D"
    for actor in (1001, 1002, 1003, 1004, 1005):
        for sentence in ("DFA", "IEO"):
            for emotion in ("ANG", "DIS", "FEA", "HAP", "NEU", "SAD"):
                clip(root / "AudioWAV" / f"{actor}_{sentence}_{emotion}_XX.wav")
    # CREMA-D ships an empty clip, and a damaged file is just as possible
    sf.write(root / "AudioWAV" / "1076_MTI_SAD_XX.wav", np.zeros(0, np.float32), 16000)
    (root / "AudioWAV" / "1077_MTI_ANG_XX.wav").write_bytes(b"RIFF....not audio")
    return root


def test_cremad_layout_and_unreadable_files_skipped_with_a_count(cremad, caplog):
    with caplog.at_level(logging.WARNING):
        items = list_items(config("cremad", cremad))
    assert "skipped 2 unreadable or empty file(s)" in caplog.text
    assert len(items) == 5 * 2 * 4
    assert {i.speaker for i in items} == {"1001", "1002", "1003", "1004", "1005"}
    assert {i.label for i in items} == {"neutral", "happy", "sad", "angry"}


def test_folder_dataset_with_and_without_speakers(tmp_path, caplog):
    root = tmp_path / "mine"
    for label in ("angry", "sad", "Happy"):
        for spk in ("s1", "s2", "s3"):
            clip(root / label / f"{spk}-take1.flac")
    clip(root / "whisper" / "s1-take1.wav")
    with caplog.at_level(logging.WARNING):
        items = list_items(config("folder", root))
    assert "split by file, not by speaker" in caplog.text
    assert {i.label for i in items} == {"angry", "sad", "happy"}  # whisper is not a class
    with_speakers = list_items(config("folder", root, speaker_pattern=r"^(s\d)-"))
    assert {i.speaker for i in with_speakers} == {"s1", "s2", "s3"}
    with pytest.raises(UserError, match="not a valid regex"):
        list_items(config("folder", root, speaker_pattern="(s\\d"))


def test_synth_corpus_groups_are_voice_variants(tmp_path):
    write_corpus(tmp_path / "c", engine="numpy", n_per_class=26, workers=1)
    items = list_items(config("synth", tmp_path / "c"))
    assert len(items) == 104
    assert all(i.speaker.endswith(i.group) for i in items)


@pytest.mark.parametrize("dataset", ["ravdess", "cremad"])
def test_splits_are_speaker_disjoint_seeded_and_cover_everything(dataset, request):
    root = request.getfixturevalue(dataset)
    cfg = config(dataset, root)
    splits = make_splits(cfg)
    speakers = [{i.speaker for i in splits[s]} for s in ("train", "val", "test")]
    assert all(speakers)
    assert not (speakers[0] & speakers[1] or speakers[0] & speakers[2] or
                speakers[1] & speakers[2])
    assert sum(len(v) for v in splits.values()) == len(list_items(cfg))
    again = make_splits(cfg)
    assert all([i.path for i in splits[s]] == [i.path for i in again[s]] for s in splits)
    other = make_splits(config(dataset, root, split=SplitConfig(seed=7)))
    assert any({i.speaker for i in splits[s]} != {i.speaker for i in other[s]} for s in splits)


def test_explicit_groups_and_their_mistakes(ravdess):
    split = SplitConfig(train_groups=["actor01", "actor02"], val_groups=["actor03"],
                        test_groups=["actor04"])
    splits = make_splits(config("ravdess", ravdess, split=split))
    assert {i.speaker for i in splits["train"]} == {"actor01", "actor02"}
    assert {i.speaker for i in splits["test"]} == {"actor04"}
    assert not any(i.speaker in ("actor05", "actor06") for s in splits.values() for i in s)
    items = list_items(config("ravdess", ravdess))
    with pytest.raises(UserError, match="unknown group"):
        split_by_group(items, groups={"test": ["actor99"]})
    with pytest.raises(UserError, match="in both"):
        split_by_group(items, groups={"test": ["actor01"], "val": ["actor01"]})


def test_missing_root_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="data.root is not set"):
        list_items(DataConfig(name=DatasetName.ravdess))
    with pytest.raises(UserError, match="is not a folder"):
        list_items(config("tess", tmp_path / "nowhere"))
    with pytest.raises(UserError, match="no metadata.csv"):
        list_items(config("synth", tmp_path))


def test_crop_or_pad_to_a_fixed_length():
    import torch

    wave = torch.arange(10.0)
    assert crop_or_pad(wave, 4).tolist() == [3, 4, 5, 6]
    assert crop_or_pad(wave, 4, offset=0).tolist() == [0, 1, 2, 3]
    padded = crop_or_pad(wave, 14)
    assert padded.shape == (14,) and padded[:2].tolist() == [0, 0] and padded[2] == 0
    assert crop_or_pad(wave, 14, offset=4)[4:].tolist() == wave.tolist()
