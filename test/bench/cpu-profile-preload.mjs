// Preloaded (NODE_OPTIONS=--import) into a service by `npm run bench:saga -- --profile-dir DIR`:
// samples the process's CPU from start to exit and writes DIR/<pid>-<entry>.cpuprofile, for Chrome's
// DevTools or test/bench/cpu-profile-summary.ts. (Node refuses --cpu-prof in NODE_OPTIONS.)
import { Session } from 'node:inspector';
import { writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

const dir = process.env.CPU_PROFILE_DIR;
if (dir) {
  const session = new Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.start');
  process.on('exit', () => {
    // A session on the main thread answers synchronously, so the profile is written before the exit.
    session.post('Profiler.stop', (error, result) => {
      if (error || !result) return;
      const entry = process.argv[process.argv.length - 1] ?? 'node';
      writeFileSync(join(dir, `${process.pid}-${basename(dirname(entry))}.cpuprofile`), JSON.stringify(result.profile));
    });
  });
}
