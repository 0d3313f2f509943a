// A mirrored directory (the CLI's sysroot) is read on demand: a path names one entry and asks
// for that one only; a listing asks for all; what the guest removes or creates stays as it did.
import { describe, expect, it } from 'vitest';
import { Vfs, type MirroredDirectory } from '../../../src/loader/system/vfs.js';

function mirror(files: Record<string, string>, links: Record<string, string> = {}): MirroredDirectory & { asked: string[]; listed: number } {
  const m = {
    asked: [] as string[],
    listed: 0,
    entry(name: string) {
      m.asked.push(name);
      if (name in files) return { kind: 'file' as const, source: () => new TextEncoder().encode(files[name]), mode: 0o755 };
      if (name in links) return { kind: 'symlink' as const, target: links[name]! };
      return undefined;
    },
    names() {
      m.listed++;
      return [...Object.keys(files), ...Object.keys(links)];
    },
  };
  return m;
}

const text = (vfs: Vfs, path: string): string => {
  const { node } = vfs.resolve(path, '/');
  if (node.kind !== 'file') throw new Error(`${path} is a ${node.kind}`);
  return new TextDecoder().decode(vfs.contents(node));
};

describe('Vfs.addMirroredDirectory', () => {
  it('asks for an entry only when a path names it, once, and follows mirrored symlinks', () => {
    const vfs = new Vfs();
    const m = mirror({ 'libc.so.6': 'libc', 'libm.so.6': 'libm' }, { 'libc.so': 'libc.so.6' });
    vfs.addMirroredDirectory('/lib', m);
    expect(m.asked).toEqual([]);
    expect(text(vfs, '/lib/libc.so')).toBe('libc');
    expect(text(vfs, '/lib/libc.so.6')).toBe('libc');
    expect(m.asked).toEqual(['libc.so', 'libc.so.6']);
    expect(() => vfs.resolve('/lib/absent.so', '/')).toThrow();
    expect(() => vfs.resolve('/lib/absent.so', '/')).toThrow();
    expect(m.asked.filter((n) => n === 'absent.so')).toHaveLength(1);
    expect(m.listed).toBe(0);
  });

  it('lists every entry when the directory is listed, keeping those already made', () => {
    const vfs = new Vfs();
    const m = mirror({ 'a.so': 'a', 'b.so': 'b' }, { 'c.so': 'a.so' });
    const dir = vfs.addMirroredDirectory('/usr/lib', m);
    const a = vfs.resolve('/usr/lib/a.so', '/').node;
    expect([...dir.children.keys()].sort()).toEqual(['a.so', 'b.so', 'c.so']);
    expect(dir.children.get('a.so')).toBe(a);
    expect(dir.children.size).toBe(3);
    expect(m.listed).toBe(1);
  });

  it('keeps what was there before, and a subdirectory made inside it', () => {
    const vfs = new Vfs();
    vfs.addFile('/usr/lib/own.so', new TextEncoder().encode('own'), 3);
    vfs.addMirroredDirectory('/usr/lib', mirror({ 'x.so': 'x' }));
    vfs.addFile('/usr/lib/x86_64-linux-gnu/libz.so.1', new TextEncoder().encode('z'), 1);
    expect(text(vfs, '/usr/lib/own.so')).toBe('own');
    expect(text(vfs, '/usr/lib/x86_64-linux-gnu/libz.so.1')).toBe('z');
    const dir = vfs.resolve('/usr/lib', '/').node;
    if (dir.kind !== 'dir') throw new Error('/usr/lib is not a directory');
    expect([...dir.children.keys()].sort()).toEqual(['own.so', 'x.so', 'x86_64-linux-gnu']);
  });

  it('does not bring back an entry the guest removed', () => {
    const vfs = new Vfs();
    const dir = vfs.addMirroredDirectory('/lib', mirror({ 'gone.so': 'g', 'kept.so': 'k' }));
    expect(dir.children.delete('gone.so')).toBe(true);
    expect(() => vfs.resolve('/lib/gone.so', '/')).toThrow();
    expect([...dir.children.keys()]).toEqual(['kept.so']);
    expect(dir.children.has('gone.so')).toBe(false);
  });
});
