"""A whole training epoch as replays of one captured step (CUDA graphs), exact to the eager step.

Everything the step reads lives in static device tensors: the training set, the epoch's batch
indices, a table of the learning rate of each batch, the momentum and a step counter. The learning
rates are precomputed on the host by running the SGD's update callbacks (ExponentialDecay) in order,
so the table holds exactly the float32 values the eager loop would use: the decay "runs on the
device" as an index into that table.

`captured_step` is a plain function of those tensors. On CUDA it is recorded once into a
torch.cuda.CUDAGraph and replayed; on CPU it is simply called, which is how its logic is tested.
"""
import torch

from port_torch.training_algorithms import fused_step


class GraphStep:
    def __init__(self, spec, params, velocities, streams, data, batch_size, g_flag):
        self.spec, self.params, self.velocities = spec, params, velocities
        self.streams, self.data, self.batch_size, self.g_flag = streams, data, batch_size, g_flag
        device = data.device
        self.counter = torch.zeros(1, dtype=torch.long, device=device)
        self.momentum = torch.zeros((), device=device)
        self.batch_index = torch.zeros((0, batch_size), dtype=torch.long, device=device)
        self.lr_table = torch.zeros(0, device=device)
        self.graph = None
        self.use_graph = device.type == "cuda" and hasattr(torch.cuda.CUDAGraph,
                                                           "register_generator_state")

    def captured_step(self):
        """One step, reading its batch and learning rate at position `counter` (no host sync)."""
        index = self.batch_index.index_select(0, self.counter).view(-1)
        X = self.data.index_select(0, index)
        lr = self.lr_table.index_select(0, self.counter).view(())
        z, masks = fused_step.draw(self.spec, self.streams, self.batch_size, self.data.device)
        fused_step.step_core(self.spec, self.params, self.velocities, X, z, masks, lr,
                             self.momentum, self.g_flag)
        self.counter.add_(1)

    def run(self, batches, learning_rates, momentum):
        """Run full batches (a list of index arrays, all of batch_size rows) in order."""
        device = self.data.device
        index = torch.as_tensor(batches, dtype=torch.long).to(device)
        lrs = torch.tensor(learning_rates, dtype=torch.float32).to(device)
        if index.shape[0] > self.batch_index.shape[0]:
            # Static buffers may only grow before a capture; an epoch's batch count never changes.
            if self.graph is not None:
                raise RuntimeError("GraphStep: more batches than the captured epoch")
            self.batch_index = torch.zeros_like(index)
            self.lr_table = torch.zeros_like(lrs)
        self.batch_index[: len(index)].copy_(index)
        self.lr_table[: len(lrs)].copy_(lrs)
        self.momentum.fill_(momentum)
        self.counter.zero_()
        done = 0
        if self.use_graph and self.graph is None:
            done = self._capture(len(index))
        for _ in range(done, len(index)):
            if self.graph is not None:
                self.graph.replay()
            else:
                self.captured_step()

    def _capture(self, available):
        """Warm up with real steps (they count: same state, same streams), then record one step."""
        warmup = min(3, available)
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):
            for _ in range(warmup):
                self.captured_step()
        torch.cuda.current_stream().wait_stream(side)
        if warmup == available:
            return warmup
        graph = torch.cuda.CUDAGraph()
        for name in ("noise", "dropout"):
            graph.register_generator_state(self.streams[name])
        with torch.cuda.graph(graph):
            self.captured_step()
        self.graph = graph
        return warmup
