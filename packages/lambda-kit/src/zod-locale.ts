import { en } from 'zod/locales';
import { config } from 'zod/mini';

// zod/mini ships without messages; the English locale makes every default message readable.
config(en());
