"""The end-to-end test's solo figure (one pitch re-attacked six times without a gap) for several programs: notes
found at the pitch and how many on time (<= 70 ms), with the bundled model's thresholds."""
import warnings

import numpy as np

import mitkit
from mitkit import constants as C
from mitkit.synth.render import StemStyle, render_stems

warnings.simplefilter("ignore")
notes = np.array([[0.5 + 0.5 * i, 1.0 + 0.5 * i, 72, 90] for i in range(6)])
for name, program in [("piano", 0), ("clarinet", 71), ("trumpet", 56), ("violin", 40), ("alto sax", 65),
                      ("flute", 73), ("cello", 42)]:
    y = render_stems([(notes, StemStyle(program=program))])[0]
    got = [n for n in mitkit.transcribe(y, sr=C.SAMPLE_RATE, instruments=1).tracks[0].notes if n.pitch == 72]
    on_time = sum(min(abs(n.onset - notes[:, 0])) <= 0.07 for n in got)
    print(f"{name}: {len(got)} notes, {on_time} on time")
