// npm as the Python build runs it (pyproject.toml: hatch-jupyter-builder's `npm` setting).
// hatch-jupyter-builder always runs `npm install`, which may rewrite package-lock.json and
// install versions the lock does not name. This wrapper turns that `install` into `npm ci`:
// exactly the versions in package-lock.json, and an error (not a silent update) when
// package.json and the lock disagree. `npm ci` starts from an empty node_modules, so it is
// skipped when node_modules was already installed from this very lock (a stamp holds the
// lock's sha256). Every other npm command passes through unchanged.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

const args = process.argv.slice(2);
const isInstall = args.filter(a => !a.startsWith('-'))[0] === 'install';
const flags = args.filter(a => a.startsWith('-'));
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const run = argv => {
  const r = spawnSync(npm, argv, { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
};

if (!isInstall) {
  run(args);
} else {
  const lock = readFileSync('package-lock.json');
  const digest = createHash('sha256').update(lock).digest('hex');
  const stamp = 'node_modules/.brepflow-npm-ci';
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === digest) {
    console.log('node_modules already installed from package-lock.json (npm ci skipped)');
  } else {
    run(['ci', ...flags]);
    writeFileSync(stamp, digest);
  }
}
