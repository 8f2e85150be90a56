import { en } from 'zod/locales';
import { config } from 'zod/mini';

// zod/mini ships without messages; the English locale makes every default message readable.
config(en());
// A missing field reads better as "is required" than as "expected string, received undefined".
config({
  customError: (issue) =>
    issue.code === 'invalid_type' && issue.input === undefined ? 'is required' : undefined,
});
