// The fixed-variance Gaussian decoder in the two parameterizations users meet. Pure numbers, no Node imports
// (shared by the launch form, the trainer's log and the presets).
//
// With p(x|z) = N(x; f(z), σ² I) over N output dimensions (pixels), the negative ELBO per example is
//   -ELBO = N·MSE / (2σ²) + KL + (N/2)·log(2πσ²),      MSE = (1/N) Σ_i (x_i - f_i(z))²,
// and dividing by N/(2σ²) gives the course form (PHYS449)  MSE + λ·KL  with  λ = 2σ²/N = 1/(βN),  β = 1/(2σ²).
// The app always trains and reports the first form (a true -ELBO in nats); λ is only another way to set σ.

/** λ of the MSE + λ·KL form for a decoder variance σ² over N output dimensions. */
export function lambdaFromVariance(variance: number, n: number): number {
  return (2 * variance) / n;
}

/** The decoder variance σ² that a given λ of the MSE + λ·KL form stands for, over N output dimensions. */
export function varianceFromLambda(lambda: number, n: number): number {
  return (lambda * n) / 2;
}

/** One line describing a fixed-σ Gaussian decoder in both forms, e.g. for the run log. */
export function describeGaussianDecoder(sigma: number, n: number): string {
  const variance = sigma * sigma;
  return `Gaussian decoder with fixed σ = ${sigma} (σ² = ${variance.toPrecision(3)}): the loss is N·MSE/(2σ²) + KL + const with N = ${n}, i.e. MSE + λ·KL with λ = 2σ²/N = ${lambdaFromVariance(variance, n).toPrecision(3)}`;
}
