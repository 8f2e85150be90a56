// Prints the in-memory world's seed as JSON (run by seed.ts in a process of its own: loading
// @tradai/local-aws intercepts every SDK client of the process, which must reach moto instead).
import { seedWorld } from '@tradai/local-aws';

const world = seedWorld();
process.stdout.write(
  JSON.stringify({
    objects: [...world.objects].map(([id, object]) => [id, Buffer.from(object.body).toString('base64')]),
    images: [...world.images].map(([repository, tags]) => [repository, [...tags.keys()]]),
    taskDefinitions: [...world.taskDefinitions].map(([family, revisions]) => [
      family,
      revisions.map((revision) => revision.definition),
    ]),
  }),
);
