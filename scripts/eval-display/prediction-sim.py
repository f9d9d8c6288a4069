"""Where the stylized face is placed between landmark detections: a simulation on real clips.

The tracking worker's detections arrive `latency` frames after their frame (2 on a loaded 2-core
machine: 60-90 ms); frames in between are placed with landmarks extrapolated from the last
detections (packages/sdk/src/tracking/one-euro.ts, predict). Against each frame's own landmarks
(MediaPipe IMAGE mode, scripts/eval-display/clip-landmarks.mjs), per predictor: mean placement
error (px) and its frame-to-frame change (px): the change is what a person sees as the stylized
face swimming on the head. The One Euro filter is the SDK's (same parameters and formulas).

    node scripts/eval-display/clip-landmarks.mjs talking-1 talking-2 talking-3 selfie-glasses head-turn
    /usr/bin/python3 scripts/eval-display/prediction-sim.py
"""
import json
import math

import numpy as np

DT = 1 / 30
MAX_LEAD_FRAMES = 120 / 33.3  # MAX_PREDICTION_LEAD_MS


def smoothing(cutoff, dt):
    r = 2 * math.pi * cutoff * dt
    return r / (r + 1)


class OneEuro:
    def __init__(self, min_cutoff=1.0, beta=0.02, derivative_cutoff=1.0):
        self.min_cutoff, self.beta, self.derivative_cutoff = min_cutoff, beta, derivative_cutoff
        self.x = None

    def filter(self, x, t):
        if self.x is None:
            self.x, self.d, self.t = x.copy(), np.zeros_like(x), t
            return self.x.copy()
        dt = t - self.t
        a_d = smoothing(self.derivative_cutoff, dt)
        self.d = a_d * (x - self.x) / dt + (1 - a_d) * self.d
        a = smoothing(self.min_cutoff + self.beta * np.abs(self.d), dt)
        self.x, self.t = a * x + (1 - a) * self.x, t
        return self.x.copy()


def simulate(points, latency, predictor):
    """Placement error and its frame-to-frame change for one clip."""
    euro = OneEuro()
    history, pending, placed = [], None, []
    for t in range(len(points)):
        if pending is not None and pending[1] <= t:
            k = pending[0]
            history.append((k, euro.filter(points[k], k * DT), euro.d.copy()))
            pending = None
        if pending is None:  # the worker is free: it takes this frame
            if latency == 0:
                history.append((t, euro.filter(points[t], t * DT), euro.d.copy()))
            else:
                pending = (t, t + latency)
        if not history:
            placed.append(None)
            continue
        k, x, derivative = history[-1]
        lead = min(t - k, MAX_LEAD_FRAMES) * DT
        if predictor == 'filtered derivative':
            placed.append(x + derivative * lead)
        elif predictor == 'hold':
            placed.append(x)
        else:  # 'last two x D': velocity of the last two filtered detections, damped by D
            damping = float(predictor.split()[-1])
            if len(history) > 1:
                k0, x0, _ = history[-2]
                placed.append(x + damping * (x - x0) / ((k - k0) * DT) * lead)
            else:
                placed.append(x)
    errors, changes, previous = [], [], None
    for t in range(10, len(points)):
        e = placed[t] - points[t]
        errors.append(np.abs(e).mean())
        if previous is not None:
            changes.append(np.abs(e - previous).mean())
        previous = e
    return float(np.mean(errors)), float(np.mean(changes))


def main():
    clips = json.load(open('.cache/clip-landmarks.json'))
    clips = {name: [np.array(p) for p in frames] for name, frames in clips.items() if all(p is not None for p in frames)}
    print('clips:', ', '.join(clips), '(error / frame-to-frame change of the error, px)')
    rows = [(0, 'filtered derivative')] + [(lat, p) for lat in (1, 2, 3) for p in ('filtered derivative', 'hold', 'last two x 0.5', 'last two x 1.0')]
    for latency, predictor in rows:
        results = [simulate(points, latency, predictor) for points in clips.values()]
        mean = np.mean(results, axis=0)
        print(f'latency {latency}  {predictor:<20}', '  '.join(f'{e:.2f}/{c:.2f}' for e, c in results), f'  mean {mean[0]:.2f}/{mean[1]:.2f}')


if __name__ == '__main__':
    main()
