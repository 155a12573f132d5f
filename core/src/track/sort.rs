//! SORT's two parts: a constant-velocity Kalman filter per box and an optimal assignment of
//! detections to tracks on IoU.
//!
//! The filter tracks centre x, centre y, width and height, each with its velocity. With
//! diagonal process and measurement noise (SORT's and DeepSORT's choice) the 8-state filter is
//! block-diagonal, i.e. exactly four independent 2-state (position, velocity) filters: that is
//! what [`Axis`] is, in closed form, with no matrix library. Time steps are real seconds (camera
//! frames do not come at a fixed rate), and noise scales with the box size as in DeepSORT.

use crate::geometry::Rect;

/// A 2-state constant-velocity Kalman filter: position, velocity and their covariance.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Axis {
    pub pos: f32,
    pub vel: f32,
    /// Covariance [[p00, p01], [p01, p11]].
    p00: f32,
    p01: f32,
    p11: f32,
}

impl Axis {
    pub fn new(pos: f32, pos_std: f32, vel_std: f32) -> Self {
        Axis {
            pos,
            vel: 0.0,
            p00: pos_std * pos_std,
            p01: 0.0,
            p11: vel_std * vel_std,
        }
    }

    /// Moves `dt` seconds ahead under white-noise acceleration of std `acc_std` (units/s²).
    pub fn predict(&mut self, dt: f32, acc_std: f32) {
        let q = acc_std * acc_std;
        let (dt2, dt3, dt4) = (dt * dt, dt * dt * dt, dt * dt * dt * dt);
        self.pos += self.vel * dt;
        // P = F P F' + Q, F = [[1, dt], [0, 1]], Q = q [[dt^4/4, dt^3/2], [dt^3/2, dt^2]].
        let p00 = self.p00 + 2.0 * dt * self.p01 + dt2 * self.p11 + q * dt4 / 4.0;
        let p01 = self.p01 + dt * self.p11 + q * dt3 / 2.0;
        let p11 = self.p11 + q * dt2;
        (self.p00, self.p01, self.p11) = (p00, p01, p11);
    }

    /// Corrects with a measured position of std `meas_std`.
    pub fn update(&mut self, z: f32, meas_std: f32) {
        let s = self.p00 + meas_std * meas_std;
        let (k0, k1) = (self.p00 / s, self.p01 / s);
        let innovation = z - self.pos;
        self.pos += k0 * innovation;
        self.vel += k1 * innovation;
        // P = (I - K H) P, H = [1, 0].
        let p00 = (1.0 - k0) * self.p00;
        let p01 = (1.0 - k0) * self.p01;
        let p11 = self.p11 - k1 * self.p01;
        (self.p00, self.p01, self.p11) = (p00, p01, p11);
    }

    pub fn pos_var(&self) -> f32 {
        self.p00
    }
}

/// Noise of the box filter, as fractions of the box's longer side.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MotionNoise {
    /// Std of a detection's edges (DeepSORT: 1/20 of the height).
    pub measurement: f32,
    /// Std of the acceleration, per second squared.
    pub acceleration: f32,
    /// Std of the velocity of a new track, per second.
    pub initial_velocity: f32,
}

impl Default for MotionNoise {
    fn default() -> Self {
        MotionNoise {
            measurement: 0.05,
            acceleration: 1.0,
            initial_velocity: 1.0,
        }
    }
}

/// A box under a constant-velocity model: centre, width and height, each an [`Axis`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BoxFilter {
    axes: [Axis; 4],
    noise: MotionNoise,
}

impl BoxFilter {
    pub fn new(r: &Rect, noise: MotionNoise) -> Self {
        let scale = r.width.max(r.height).max(1.0);
        let z = measure(r);
        let axes =
            z.map(|v| Axis::new(v, noise.measurement * scale, noise.initial_velocity * scale));
        BoxFilter { axes, noise }
    }

    fn scale(&self) -> f32 {
        self.axes[2].pos.max(self.axes[3].pos).max(1.0)
    }

    pub fn predict(&mut self, dt: f32) {
        let dt = dt.clamp(0.0, 2.0);
        if dt == 0.0 {
            return;
        }
        let acc = self.noise.acceleration * self.scale();
        for a in &mut self.axes {
            a.predict(dt, acc);
        }
        // A box never shrinks below a pixel under extrapolation.
        for a in &mut self.axes[2..] {
            a.pos = a.pos.max(1.0);
        }
    }

    pub fn update(&mut self, r: &Rect) {
        let meas = self.noise.measurement * r.width.max(r.height).max(1.0);
        for (a, z) in self.axes.iter_mut().zip(measure(r)) {
            a.update(z, meas);
        }
    }

    pub fn rect(&self) -> Rect {
        let [cx, cy, w, h] = self.axes.map(|a| a.pos);
        Rect::new(cx - w / 2.0, cy - h / 2.0, w, h)
    }

    /// Velocity of the centre, pixels per second.
    pub fn velocity(&self) -> (f32, f32) {
        (self.axes[0].vel, self.axes[1].vel)
    }
}

fn measure(r: &Rect) -> [f32; 4] {
    [
        r.x + r.width / 2.0,
        r.y + r.height / 2.0,
        r.width.max(1.0),
        r.height.max(1.0),
    ]
}

/// Minimum-cost assignment of rows to columns (Hungarian method, O(n² m), potentials form);
/// `cost[i][j]`, rows <= columns or not. Returns, per row, its column or `None`.
pub fn hungarian(cost: &[Vec<f32>]) -> Vec<Option<usize>> {
    let n = cost.len();
    if n == 0 {
        return Vec::new();
    }
    let m = cost[0].len();
    if m == 0 {
        return vec![None; n];
    }
    // The algorithm wants rows <= columns: transpose otherwise.
    if n > m {
        let t: Vec<Vec<f32>> = (0..m)
            .map(|j| (0..n).map(|i| cost[i][j]).collect())
            .collect();
        let cols = hungarian(&t);
        let mut rows = vec![None; n];
        for (j, i) in cols.into_iter().enumerate() {
            if let Some(i) = i {
                rows[i] = Some(j);
            }
        }
        return rows;
    }
    // e-maxx formulation, 1-based with a virtual column 0.
    let inf = f64::INFINITY;
    let mut u = vec![0f64; n + 1];
    let mut v = vec![0f64; m + 1];
    let mut p = vec![0usize; m + 1];
    let mut way = vec![0usize; m + 1];
    for i in 1..=n {
        p[0] = i;
        let mut j0 = 0;
        let mut minv = vec![inf; m + 1];
        let mut used = vec![false; m + 1];
        loop {
            used[j0] = true;
            let i0 = p[j0];
            let mut delta = inf;
            let mut j1 = 0;
            for j in 1..=m {
                if !used[j] {
                    let cur = cost[i0 - 1][j - 1] as f64 - u[i0] - v[j];
                    if cur < minv[j] {
                        minv[j] = cur;
                        way[j] = j0;
                    }
                    if minv[j] < delta {
                        delta = minv[j];
                        j1 = j;
                    }
                }
            }
            for j in 0..=m {
                if used[j] {
                    u[p[j]] += delta;
                    v[j] -= delta;
                } else {
                    minv[j] -= delta;
                }
            }
            j0 = j1;
            if p[j0] == 0 {
                break;
            }
        }
        loop {
            let j1 = way[j0];
            p[j0] = p[j1];
            j0 = j1;
            if j0 == 0 {
                break;
            }
        }
    }
    let mut rows = vec![None; n];
    for j in 1..=m {
        if p[j] != 0 {
            rows[p[j] - 1] = Some(j - 1);
        }
    }
    rows
}

/// Matches tracks to detections: maximum total IoU among pairs that may match (`allowed`) with
/// IoU >= `min_iou`. Returns (track, detection) pairs.
pub fn match_iou(
    tracks: &[Rect],
    detections: &[Rect],
    min_iou: f32,
    allowed: impl Fn(usize, usize) -> bool,
) -> Vec<(usize, usize)> {
    if tracks.is_empty() || detections.is_empty() {
        return Vec::new();
    }
    const FORBIDDEN: f32 = 1e3;
    let cost: Vec<Vec<f32>> = tracks
        .iter()
        .enumerate()
        .map(|(i, t)| {
            detections
                .iter()
                .enumerate()
                .map(|(j, d)| {
                    let iou = t.iou(d);
                    if allowed(i, j) && iou >= min_iou {
                        1.0 - iou
                    } else {
                        FORBIDDEN
                    }
                })
                .collect()
        })
        .collect();
    hungarian(&cost)
        .into_iter()
        .enumerate()
        .filter_map(|(i, j)| j.filter(|&j| cost[i][j] < FORBIDDEN).map(|j| (i, j)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn track_kalman_learns_constant_velocity() {
        // A box moving 100 px/s right, 50 px/s down, measured at 10 Hz.
        let mut f = BoxFilter::new(&Rect::new(0.0, 0.0, 40.0, 80.0), MotionNoise::default());
        for i in 1..=20 {
            let t = i as f32 * 0.1;
            f.predict(0.1);
            f.update(&Rect::new(100.0 * t, 50.0 * t, 40.0, 80.0));
        }
        let (vx, vy) = f.velocity();
        assert!(
            (vx - 100.0).abs() < 5.0 && (vy - 50.0).abs() < 5.0,
            "{vx} {vy}"
        );
        // Carried 0.3 s without measurements it lands where the object is.
        f.predict(0.3);
        let r = f.rect();
        assert!(
            (r.x - 230.0).abs() < 3.0 && (r.y - 115.0).abs() < 3.0,
            "{r:?}"
        );
        assert!((r.width - 40.0).abs() < 1.0 && (r.height - 80.0).abs() < 1.0);
    }

    #[test]
    fn track_kalman_uncertainty_grows_without_measurements() {
        let mut a = Axis::new(0.0, 1.0, 1.0);
        let v0 = a.pos_var();
        a.predict(0.5, 2.0);
        assert!(a.pos_var() > v0);
        let v1 = a.pos_var();
        a.update(0.0, 1.0);
        assert!(a.pos_var() < v1);
    }

    #[test]
    fn track_hungarian_finds_the_optimum_where_greedy_does_not() {
        // Greedy would take (0,0) = 0.1 then (1,1) = 0.9: total 1.0; optimum is 0.2 + 0.3.
        let cost = vec![vec![0.1, 0.2], vec![0.3, 0.9]];
        assert_eq!(hungarian(&cost), vec![Some(1), Some(0)]);
        // Rectangular both ways.
        let wide = vec![vec![5.0, 1.0, 3.0]];
        assert_eq!(hungarian(&wide), vec![Some(1)]);
        let tall = vec![vec![5.0], vec![1.0], vec![3.0]];
        assert_eq!(hungarian(&tall), vec![None, Some(0), None]);
        assert!(hungarian(&[]).is_empty());
    }

    #[test]
    fn track_match_iou_respects_threshold_and_labels() {
        let tracks = [
            Rect::new(0.0, 0.0, 10.0, 10.0),
            Rect::new(100.0, 0.0, 10.0, 10.0),
        ];
        let dets = [
            Rect::new(101.0, 0.0, 10.0, 10.0),
            Rect::new(1.0, 1.0, 10.0, 10.0),
            Rect::new(50.0, 50.0, 10.0, 10.0),
        ];
        let m = match_iou(&tracks, &dets, 0.3, |_, _| true);
        assert_eq!(m, vec![(0, 1), (1, 0)]);
        // Labels disagree for track 1: it stays unmatched rather than take another box.
        let m = match_iou(&tracks, &dets, 0.3, |i, _| i == 0);
        assert_eq!(m, vec![(0, 1)]);
    }
}
