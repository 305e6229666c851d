"""The HTML report a user opens and shares: a title, no machine paths, hover labels that say something."""
from pathlib import Path

import mitkit
from mitkit.export import write_report
from mitkit.plots import note_name, plot_transcription


def test_note_names():
    assert [note_name(m) for m in (60, 61, 69, 70, 21, 108)] == ["C4", "C♯4", "A4", "B♭4", "A0", "C8"]


def test_report_has_a_title_and_no_machine_path(example_k4, tmp_path):
    page = write_report(example_k4, tmp_path / "r.html").read_text(encoding="utf-8")
    name = Path(mitkit.example_path()).name
    assert f"<title>{name} · mitkit transcription</title>" in page
    assert str(Path(mitkit.example_path()).parent) not in page  # the heading names the file, not its folder


def test_hover_labels_name_track_pitch_and_times(example_k4):
    fig = plot_transcription(example_k4)
    heatmap = fig.data[0]
    assert "MIDI %{y}" in heatmap.hovertemplate and "posterior" in heatmap.hovertemplate
    labelled = [tr for tr in fig.data if tr.text is not None]
    assert len(labelled) == example_k4.instruments
    first = example_k4.tracks[0].notes[0]
    label = labelled[0].text[0]
    assert label.startswith("Track 1<br>") and note_name(first.pitch) in label
    assert f"{first.onset:.2f}–{first.offset:.2f} s" in label and f"velocity {first.velocity}" in label


def test_report_states_how_the_instruments_were_counted_as_wrapping_text(example_k4, tmp_path):
    import dataclasses

    from mitkit.instrument_count import InstrumentCount
    counted = dataclasses.replace(example_k4, count=InstrumentCount(k=4, reason="4 instruments: <b>chords</b> & lines"))
    page = write_report(counted, tmp_path / "r.html").read_text(encoding="utf-8")
    paragraph = '<p class="mitkit-count" style="font: 13px sans-serif; margin: 12px 80px 0;">'
    assert f"{paragraph}4 instruments: &lt;b&gt;chords&lt;/b&gt; &amp; lines</p>" in page  # escaped, HTML text
    assert page.index(paragraph) < page.index("Plotly.newPlot")
    assert "mitkit-count" not in write_report(example_k4, tmp_path / "k.html").read_text(encoding="utf-8")  # K given
