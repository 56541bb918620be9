/** A deterministic synthetic classification dataset: Gaussian blobs, one per class. */

/** Features row-major (samples x features) and integer labels. */
export interface Dataset {
  readonly features: Float32Array;
  readonly labels: Uint8Array;
  readonly samples: number;
  readonly featureCount: number;
}

export interface BlobsOptions {
  /** Default 3. */
  readonly classes?: number;
  /** Default 4. */
  readonly features?: number;
  /** Distance scale of the class centres. Default 1.6. */
  readonly centreScale?: number;
  /** Standard deviation of every feature around its centre. Default 1. */
  readonly spread?: number;
  /** Added to every feature (an uncentred input makes SGD converge over several rounds). Default 4. */
  readonly offset?: number;
  /** Seed of the class centres (shared by every collaborator). Default 42. */
  readonly seed?: number;
}

export interface CollaboratorShard {
  readonly train: Dataset;
  readonly validation: Dataset;
}

/** mulberry32: a small, fast, seeded PRNG returning floats in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal samples (Box-Muller) from a uniform source. */
export function gaussian(random: () => number): () => number {
  return () => {
    const u = 1 - random();
    const v = random();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  };
}

/** FNV-1a of a string: the per-collaborator seed. */
export function nameSeed(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** The class centres: `classes` x `features`, row-major. */
export function blobCentres(options: BlobsOptions = {}): Float32Array {
  const classes = options.classes ?? 3;
  const features = options.features ?? 4;
  const scale = options.centreScale ?? 1.6;
  const offset = options.offset ?? 4;
  const normal = gaussian(seededRandom(options.seed ?? 42));
  return Float32Array.from({ length: classes * features }, () => offset + scale * normal());
}

/** `samples` points with uniformly drawn classes, from a PRNG seeded with `seed`. */
export function sampleBlobs(samples: number, seed: number, options: BlobsOptions = {}): Dataset {
  const classes = options.classes ?? 3;
  const featureCount = options.features ?? 4;
  const spread = options.spread ?? 1;
  const centres = blobCentres(options);
  const random = seededRandom(seed);
  const normal = gaussian(random);
  const features = new Float32Array(samples * featureCount);
  const labels = new Uint8Array(samples);
  for (let s = 0; s < samples; s++) {
    const label = Math.floor(random() * classes);
    labels[s] = label;
    for (let f = 0; f < featureCount; f++) {
      features[s * featureCount + f] =
        (centres[label * featureCount + f] as number) + spread * normal();
    }
  }
  return { features, labels, samples, featureCount };
}

/**
 * This collaborator's data, chosen by its name: every collaborator draws from the same
 * blobs with its own seed, so shards differ but share one distribution.
 */
export function collaboratorShard(
  collaboratorName: string,
  sizes: { readonly train?: number; readonly validation?: number } = {},
  options: BlobsOptions = {},
): CollaboratorShard {
  const seed = nameSeed(collaboratorName);
  return {
    train: sampleBlobs(sizes.train ?? 240, seed, options),
    validation: sampleBlobs(sizes.validation ?? 120, (seed ^ 0x9e3779b9) >>> 0, options),
  };
}
