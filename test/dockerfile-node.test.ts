import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './kit/proc.js';

/**
 * The image runs the Node major the project is built and tested on: package.json "engines"
 * (what README's quick start and CI use) and the Dockerfile's base image must name the same
 * major, and the base image is pinned by digest (Dockerfile comment: how to refresh it).
 */

const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { engines: { node: string } };

function imageMajor(text = dockerfile): number {
  const m = /^ARG NODE_IMAGE=node:(\d+)-bookworm-slim@sha256:[0-9a-f]{64}$/m.exec(text);
  if (!m) throw new Error('Dockerfile: ARG NODE_IMAGE=node:<major>-bookworm-slim@sha256:<digest> not found');
  return Number(m[1]);
}

t.test('the Dockerfile base image is node:<major>-bookworm-slim pinned by a sha256 digest', async (t) => {
  t.doesNotThrow(imageMajor);
  t.notMatch(dockerfile, /^FROM node:/m, 'every stage builds FROM ${NODE_IMAGE}, none from an unpinned tag');
});

t.test('the image\'s Node major is the major of package.json engines', async (t) => {
  const m = /^>=\s*(\d+)(?:\.\d+)*$/.exec(pkg.engines.node.trim());
  t.ok(m, `engines.node "${pkg.engines.node}" is a ">=MAJOR.MINOR" range`);
  t.equal(imageMajor(), Number(m?.[1]), `Dockerfile node:${imageMajor()} vs engines ${pkg.engines.node}`);
});

t.test('the checks above can fail: another major or a bare tag is told apart', async (t) => {
  const other = dockerfile.replace(/^ARG NODE_IMAGE=node:(\d+)-/m, (_, n: string) => `ARG NODE_IMAGE=node:${Number(n) + 2}-`);
  t.not(imageMajor(other), Number(/^>=\s*(\d+)/.exec(pkg.engines.node)?.[1]));
  t.throws(() => imageMajor(dockerfile.replace(/@sha256:[0-9a-f]{64}$/m, '')), 'an unpinned tag is refused');
});

t.test('in CI, the Node running the tests is the image\'s major', async (t) => {
  const running = Number(process.versions.node.split('.')[0]);
  if (process.env.CI === 'true') t.equal(running, imageMajor(), 'CI tests on the Node major the image ships');
  else t.ok(running >= Number(/^>=\s*(\d+)/.exec(pkg.engines.node)?.[1]), `Node ${process.versions.node} satisfies engines`);
});
