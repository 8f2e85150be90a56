// Loaded into a process the bench measures (node --import ./bench/rss-probe.mjs ...): as the process
// exits, it writes its peak resident set size in KiB (getrusage's ru_maxrss, which
// process.resourceUsage() reports) to file descriptor 3, a pipe the bench opens for it. Node alone,
// so it works where /usr/bin/time is not installed.
import { writeSync } from 'node:fs';

process.on('exit', () => {
  try {
    writeSync(3, String(process.resourceUsage().maxRSS));
  } catch {
    // Not started by the bench: no descriptor 3 to report to.
  }
});
