"""JAX twin of `bench`'s MLP DSM step (784-512-512-784 Softplus MLP, Float32, batch 128).

One jitted step: sigma per row from the 10-level geometric ladder 1 .. 0.01, z ~ N(0, I),
x~ = x + sigma z, target -z/sigma, weight sigma^2, loss mean_b(w_b * 1/2 ||s(x~_b) - target_b||^2),
gradients, optax.adam(1e-4). Noise is drawn inside the step, as ours is. Thread count: run under
`taskset -c 0` for one thread (XLA's CPU client sizes its pool from the visible cores). Prints
"RESULT mlp-jax <threads> <best ms> <median ms>". Not run by CI.
"""
import argparse
import statistics
import time

import jax
import jax.numpy as jnp
import optax


def init(key, sizes):
    params = []
    for din, dout in zip(sizes[:-1], sizes[1:]):
        key, kw, kb = jax.random.split(key, 3)
        bound = 1 / din ** 0.5
        params.append((jax.random.uniform(kw, (din, dout), minval=-bound, maxval=bound),
                       jax.random.uniform(kb, (dout,), minval=-bound, maxval=bound)))
    return params


def mlp(params, x):
    for i, (w, b) in enumerate(params):
        x = x @ w + b
        if i < len(params) - 1:
            x = jax.nn.softplus(x)
    return x


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, default=1, help="label only; pin with taskset")
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--steps", type=int, default=50)
    p.add_argument("--warmup", type=int, default=20)
    p.add_argument("--repeats", type=int, default=7)
    a = p.parse_args()
    key = jax.random.PRNGKey(0)
    params = init(key, [784, 512, 512, 784])
    opt = optax.adam(1e-4)
    state = opt.init(params)
    x = jax.random.uniform(jax.random.PRNGKey(1), (a.batch, 784))
    ladder = jnp.logspace(0, -2, 10)

    def loss_fn(params, key):
        k1, k2 = jax.random.split(key)
        sigma = ladder[jax.random.randint(k1, (a.batch,), 0, 10)][:, None]
        z = jax.random.normal(k2, x.shape)
        pred = mlp(params, x + sigma * z)
        return jnp.mean(sigma[:, 0] ** 2 * 0.5 * jnp.sum((pred + z / sigma) ** 2, axis=1))

    @jax.jit
    def step(params, state, key):
        key, sub = jax.random.split(key)
        loss, grads = jax.value_and_grad(loss_fn)(params, sub)
        updates, state = opt.update(grads, state, params)
        return optax.apply_updates(params, updates), state, key, loss

    for _ in range(a.warmup):
        params, state, key, loss = step(params, state, key)
    loss.block_until_ready()
    times = []
    for _ in range(a.repeats):
        t0 = time.perf_counter()
        for _ in range(a.steps):
            params, state, key, loss = step(params, state, key)
        loss.block_until_ready()
        times.append((time.perf_counter() - t0) / a.steps * 1e3)
    print(f"jax {jax.__version__}, devices {jax.devices()}")
    print(f"RESULT mlp-jax {a.threads} {min(times):.3f} {statistics.median(times):.3f}")


if __name__ == "__main__":
    main()
