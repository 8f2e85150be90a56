/*
 * A world described in a file (`tradai-sim --world FILE`): what AWS already holds before the run.
 * It is laid over the seeded world, so a file says only what differs: "this run already
 * COMPLETED", "this image is missing", "this object holds that".
 */
import * as z from 'zod/mini';
import type { World } from './world';

const s3UriSchema = z
  .string()
  .check(z.regex(/^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]\/.+$/, 's3://bucket/key'));

export const worldFileSchema = z.strictObject({
  $comment: z.optional(z.string()),
  /** Workflow-state records: run_id -> attributes (strings, as the table stores them). */
  records: z.optional(
    z.record(z.string().check(z.regex(/^[A-Za-z0-9_-]{1,80}$/)), z.record(z.string(), z.string())),
  ),
  /** S3 objects: `s3://bucket/key` -> body (a string as is, anything else as JSON). */
  objects: z.optional(z.record(s3UriSchema, z.unknown())),
  /** ECR images: `repository:tag` -> `sha256:<64 hex>`. */
  images: z.optional(
    z.record(
      z.string().check(z.regex(/^[a-z0-9][a-z0-9._/-]*:[A-Za-z0-9._-]+$/)),
      z.string().check(z.regex(/^sha256:[0-9a-f]{64}$/)),
    ),
  ),
  /** Trading services the platform created: one bot each, on an earlier image. */
  services: z.optional(
    z.array(
      z.strictObject({
        name: z.string().check(z.minLength(1)),
        task_family: z.string().check(z.minLength(1)),
        image: z.string().check(z.minLength(1)),
      }),
    ),
  ),
  /** Services that do not exist. */
  missing_services: z.optional(z.array(z.string())),
});
export type WorldFile = z.output<typeof worldFileSchema>;

/** A world file that does not describe a world; its message names the field. */
export class WorldFileError extends Error {
  override name = 'WorldFileError';
}

/** Lays the file over `world`, into `table` (the workflow-state table) for its records. */
export const applyWorldFile = (world: World, file: unknown, table: string): WorldFile => {
  const parsed = worldFileSchema.safeParse(file);
  if (!parsed.success) {
    const issues = parsed.error.issues.map(
      (issue) => `${issue.path.join('.') || '(the file)'}: ${issue.message}`,
    );
    throw new WorldFileError(`Invalid world file: ${issues.join('; ')}`);
  }
  const spec = parsed.data;
  for (const [runId, record] of Object.entries(spec.records ?? {})) world.putRecord(table, runId, record);
  for (const [uri, body] of Object.entries(spec.objects ?? {})) {
    const [, bucket, key] = /^s3:\/\/([^/]+)\/(.+)$/.exec(uri) as RegExpExecArray;
    world.putObject(
      bucket as string,
      key as string,
      typeof body === 'string' ? body : JSON.stringify(body),
      false,
    );
  }
  for (const [image, digest] of Object.entries(spec.images ?? {})) {
    const at = image.lastIndexOf(':');
    world.putImage(image.slice(0, at), image.slice(at + 1), digest);
  }
  for (const service of spec.services ?? [])
    world.addService(service.name, service.task_family, service.image);
  for (const name of spec.missing_services ?? []) world.services.delete(name);
  return spec;
};
