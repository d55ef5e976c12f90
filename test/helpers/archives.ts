/**
 * Model archives for tests, built with python's tarfile (the tool SageMaker users build them
 * with): any member names, links and devices, which no archiver of ours would write.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Writes `<dir>/<name>.tar.gz` and returns its bytes; `members` is Python code adding members to
 * the archive `t` with `add(t, name, data=b'', type=tarfile.REGTYPE, link='')`.
 */
export function pythonArchive(dir: string, name: string, members: string): Buffer {
  const file = join(dir, `${name}.tar.gz`);
  const script = `import tarfile, io
def add(t, name, data=b'', type=tarfile.REGTYPE, link=''):
    info = tarfile.TarInfo(name); info.size = len(data); info.type = type; info.linkname = link
    t.addfile(info, io.BytesIO(data) if type == tarfile.REGTYPE else None)
with tarfile.open(${JSON.stringify(file)}, 'w:gz', format=tarfile.PAX_FORMAT) as t:
${members.split('\n').map((l) => `    ${l}`).join('\n')}
`;
  execFileSync('python3', ['-c', script]);
  return readFileSync(file);
}
