"""Run by tests/test_train.py under torchrun: a 2-step DDP training on tone mixtures (CPU, gloo)."""
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(__file__))
from test_train import CLIP, ToneMixtures  # noqa: E402

from mitkit.training.trainer import TrainConfig, Trainer

run = sys.argv[1]
cfg = TrainConfig.preset("tiny", stage="joint", steps=2, batch_size=2, clip_frames=CLIP, eval_every=2,
                         val_batches=1, num_workers=0, threads=1)
trainer = Trainer(cfg, run, device="cpu", train_set=ToneMixtures(10 ** 6, 0), val_set=ToneMixtures(4, 99))
trainer.run(progress=False)
torch.save(trainer.model.state_dict(), os.path.join(run, f"rank{trainer.rank}.pt"))
trainer.close()  # both ranks done with their files before either tears gloo down
if torch.distributed.is_initialized():
    sys.exit("Trainer.close left its process group set up")
# Skip the interpreter's finalization: gloo's threads can abort a rank there now and then ("terminate called
# without an active exception", seen once in a CI run), after all the work this test checks is on disk.
sys.stdout.flush()
sys.stderr.flush()
os._exit(0)
