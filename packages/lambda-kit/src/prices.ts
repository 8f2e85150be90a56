/*
 * What AWS charges for what the workflows use, in one place: the local world's bill (local-aws
 * bill.ts) and a sweep's estimate before it starts (sweep-cost.ts) read the same rates.
 */
export const PRICES = {
  region: 'us-east-1',
  /** When these rates were read; AWS changes them rarely, but does. */
  asOf: '2026-03',
  source:
    'aws.amazon.com/step-functions/pricing, /lambda/pricing, /fargate/pricing (Fargate: the Price List API figures for Linux/x86 as of March 2026)',
  /** Standard workflows; a Distributed Map is billed one transition per child execution it starts. */
  stepFunctions: { perTransition: 0.025 / 1000 },
  lambda: { perRequest: 0.2 / 1_000_000, perGbSecondArm64: 0.0000133334 },
  fargate: {
    onDemand: { perVcpuHour: 0.04048, perGbHour: 0.004445 },
    /** Fargate Spot's rate moves with spare capacity; "up to 70% off" is AWS's figure, used here. */
    spot: { perVcpuHour: 0.04048 * 0.3, perGbHour: 0.004445 * 0.3 },
    minimumSeconds: 60,
  },
} as const;
