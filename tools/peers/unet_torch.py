"""PyTorch twin of `bench`'s U-Net DSM step (Sources/NeuralNet/UNet.swift, Sources/Tools/bench).

Same network (C base channels, GroupNorm(8) + SiLU residual blocks, output divided by sigma),
batch of 28x28 uniform stand-in images, one sigma per example from the 10-level geometric ladder
1 .. 0.01, loss 1/2 mean_b ||sigma_b s(x~_b) + z_b||^2, Adam (lr 1e-4). Prints one line
"RESULT unet-torch <threads> <best ms> <median ms>". Not run by CI.

--mode forward times the sampling forward instead (issue 32): one forward under
torch.no_grad(), sigmas cycling over the ladder, as `bench --networks unet-forward`; it prints
"RESULT unetfwd-c<C>-b<B>-torch <threads> <best ms> <median ms>".
"""
import argparse
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class ResidualBlock(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.norm1, self.conv1 = nn.GroupNorm(8, cin), nn.Conv2d(cin, cout, 3, padding=1)
        self.norm2, self.conv2 = nn.GroupNorm(8, cout), nn.Conv2d(cout, cout, 3, padding=1)
        self.skip = None if cin == cout else nn.Conv2d(cin, cout, 1)

    def forward(self, x):
        h = self.conv1(F.silu(self.norm1(x)))
        h = self.conv2(F.silu(self.norm2(h)))
        return h + (x if self.skip is None else self.skip(x))


class UNet(nn.Module):
    def __init__(self, c=32, cin=1, cout=1):
        super().__init__()
        self.conv_in = nn.Conv2d(cin, c, 3, padding=1)
        self.rb1 = ResidualBlock(c, c)
        self.down1 = nn.Conv2d(c, 2 * c, 3, stride=2, padding=1)
        self.rb2 = ResidualBlock(2 * c, 2 * c)
        self.down2 = nn.Conv2d(2 * c, 2 * c, 3, stride=2, padding=1)
        self.rb3, self.rb4 = ResidualBlock(2 * c, 2 * c), ResidualBlock(2 * c, 2 * c)
        self.up_conv1 = nn.Conv2d(2 * c, 2 * c, 3, padding=1)
        self.rb5 = ResidualBlock(4 * c, 2 * c)
        self.up_conv2 = nn.Conv2d(2 * c, c, 3, padding=1)
        self.rb6 = ResidualBlock(2 * c, c)
        self.norm_out = nn.GroupNorm(8, c)
        self.conv_out = nn.Conv2d(c, cout, 3, padding=1)

    def forward(self, x, sigma):
        h1 = self.rb1(self.conv_in(x))
        h2 = self.rb2(self.down1(h1))
        h = self.rb4(self.rb3(self.down2(h2)))
        h = self.up_conv1(F.interpolate(h, scale_factor=2, mode="nearest"))
        h = self.rb5(torch.cat([h, h2], dim=1))
        h = self.up_conv2(F.interpolate(h, scale_factor=2, mode="nearest"))
        h = self.rb6(torch.cat([h, h1], dim=1))
        h = self.conv_out(F.silu(self.norm_out(h)))
        return h / sigma.view(-1, 1, 1, 1)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--channels", type=int, default=32)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--side", type=int, default=28)
    p.add_argument("--steps", type=int, default=1)
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--mode", choices=["step", "forward"], default="step")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    net = UNet(a.channels)
    count = sum(p.numel() for p in net.parameters())
    opt = torch.optim.Adam(net.parameters(), lr=1e-4)
    x = torch.rand(a.batch, 1, a.side, a.side)
    ladder = torch.logspace(0, -2, 10)

    def step():
        sigma = ladder[torch.randint(0, 10, (a.batch,))]
        z = torch.randn_like(x)
        s = net(x + sigma.view(-1, 1, 1, 1) * z, sigma)
        loss = 0.5 * ((sigma.view(-1, 1, 1, 1) * s + z) ** 2).sum(dim=(1, 2, 3)).mean()
        opt.zero_grad(set_to_none=False)
        loss.backward()
        opt.step()
        return loss

    if a.mode == "forward":
        net.eval()
        sigmas = ladder[torch.arange(a.batch) % 10]

        def step():
            with torch.no_grad():
                return net(x, sigmas)

    for _ in range(a.warmup):
        step()
    times = []
    for _ in range(a.repeats):
        t0 = time.perf_counter()
        for _ in range(a.steps):
            step()
        times.append((time.perf_counter() - t0) / a.steps * 1e3)
    print(f"torch {torch.__version__}, {count} parameters, threads {torch.get_num_threads()}")
    name = "unet-torch" if a.mode == "step" else f"unetfwd-c{a.channels}-b{a.batch}-torch"
    print(f"RESULT {name} {a.threads} {min(times):.3f} {statistics.median(times):.3f}")


if __name__ == "__main__":
    main()
