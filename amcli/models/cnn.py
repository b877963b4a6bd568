"""CNN and CRNN classifiers on log-mel (2-D convolutions) and on the raw waveform (1-D).

Every body ends in statistics pooling over time (mean and max), so any clip longer than the
architecture's ``min_samples`` works. CRNNs put a bidirectional GRU over time between the
convolutions and the pooling.
"""

from __future__ import annotations

import torch
from torch import nn

from amcli.models.base import Body, EvalSafeGRU, conv_block_1d, conv_block_2d, stats_pool


def _widths(width: int, depth: int) -> list[int]:
    return [width * min(2**i, 4) for i in range(depth)]


class MelBody(Body):
    """log-mel [B, n_mels, frames] -> logits; ``rnn_hidden`` > 0 adds a GRU (CRNN)."""

    def __init__(
        self,
        n_mels: int,
        n_classes: int,
        width: int = 16,
        depth: int = 4,
        rnn_hidden: int = 0,
        embed_dim: int = 64,
        dropout: float = 0.2,
    ) -> None:
        super().__init__(embed_dim, n_classes, dropout)
        self.input_norm = nn.BatchNorm2d(1)
        widths = _widths(width, depth)
        # CRNNs keep time resolution for the GRU: pool frequency every block, time twice.
        pools = [(2, 2) if (rnn_hidden == 0 or i < 2) else (2, 1) for i in range(depth)]
        self.convs = nn.Sequential(*(
            conv_block_2d(c_in, c_out, pool)
            for c_in, c_out, pool in zip([1, *widths[:-1]], widths, pools, strict=True)
        ))
        freq_out = n_mels
        for pool in pools:
            freq_out = -(-freq_out // pool[0])
        channels = widths[-1]
        self.rnn = None
        if rnn_hidden:
            self.rnn = EvalSafeGRU(channels * freq_out, rnn_hidden, batch_first=True,
                                   bidirectional=True)
            channels = 2 * rnn_hidden
        self.embedding = nn.Sequential(nn.Linear(2 * channels, embed_dim), nn.ReLU())

    def features(self, mel: torch.Tensor) -> torch.Tensor:
        x = self.convs(self.input_norm(mel.unsqueeze(1)))  # [B, C, F, T]
        if self.rnn is not None:
            b, c, f, t = x.shape
            x, _ = self.rnn(x.permute(0, 3, 1, 2).reshape(b, t, c * f))
            x = x.transpose(1, 2)  # [B, 2H, T]
        else:
            x = x.mean(dim=2)  # [B, C, T]
        return self.embedding(stats_pool(x))


class RawBody(Body):
    """waveform [B, T] -> logits: a strided learned filterbank, then 1-D conv blocks."""

    def __init__(
        self,
        n_classes: int,
        width: int = 32,
        depth: int = 4,
        rnn_hidden: int = 0,
        embed_dim: int = 64,
        dropout: float = 0.2,
        frontend_kernel: int = 64,
        frontend_stride: int = 8,
    ) -> None:
        super().__init__(embed_dim, n_classes, dropout)
        self.filterbank = nn.Sequential(
            nn.Conv1d(1, width, frontend_kernel, stride=frontend_stride,
                      padding=frontend_kernel // 2, bias=False),
            nn.BatchNorm1d(width),
            nn.ReLU(inplace=True),
            nn.MaxPool1d(4, ceil_mode=True),
        )
        widths = _widths(width, depth)
        pool = 2 if rnn_hidden else 3
        self.convs = nn.Sequential(*(
            conv_block_1d(c_in, c_out, pool)
            for c_in, c_out in zip([width, *widths[:-1]], widths, strict=True)
        ))
        channels = widths[-1]
        self.rnn = None
        if rnn_hidden:
            self.rnn = EvalSafeGRU(channels, rnn_hidden, batch_first=True, bidirectional=True)
            channels = 2 * rnn_hidden
        self.embedding = nn.Sequential(nn.Linear(2 * channels, embed_dim), nn.ReLU())

    def features(self, wave: torch.Tensor) -> torch.Tensor:
        x = self.convs(self.filterbank(wave.unsqueeze(1)))  # [B, C, T']
        if self.rnn is not None:
            x, _ = self.rnn(x.transpose(1, 2))
            x = x.transpose(1, 2)
        return self.embedding(stats_pool(x))
