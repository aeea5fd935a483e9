/**
 * Labels from paths, as a person lays out a gallery: the folder holding an
 * image names the identity (LFW's Name/Name_0001.jpg); an image straight in
 * the dropped folder, or dropped on its own, is its own identity.
 */

const IMAGE_EXT = /\.(jpe?g|png|webp|bmp|gif)$/i;

function stem(fileName: string): string {
  return fileName.replace(/\.[^.]*$/, '');
}

/**
 * `relativePath` as the browser gives it (webkitRelativePath or a zip entry).
 * Only "/" separates folders: it is the zip format's separator and the one
 * browsers use; a backslash is a character of a name (legal in file names on
 * Linux and macOS), so a folder never ends inside one.
 */
export function identityFromPath(relativePath: string): string {
  const parts = relativePath.split('/').filter((p) => p.length > 0 && p !== '.');
  const file = parts[parts.length - 1] ?? relativePath;
  if (parts.length >= 3) return parts[parts.length - 2];
  return stem(file);
}

/**
 * Why a zip entry's name cannot be used as a path inside the dropped archive,
 * or undefined when it can. Absolute names and ".." would place a file
 * outside the archive's folder, and an empty folder name ("a//b") makes the
 * label ambiguous; such entries are listed as problems, never used or
 * silently renamed. `name` is a file's name (folder entries are skipped
 * before this).
 */
export function zipEntryPathProblem(name: string): string | undefined {
  if (name.length === 0) return 'the entry has no name';
  if (name.startsWith('/')) return 'its path is absolute (it starts with "/"), so it does not say where in the archive it belongs';
  if (/^[A-Za-z]:/.test(name)) return `its path is absolute (it starts with the drive "${name.slice(0, 2)}"), so it does not say where in the archive it belongs`;
  const segments = name.split('/');
  if (segments.includes('..')) return 'its path climbs out of the archive\'s folder (it holds a ".." folder)';
  if (segments.includes('')) return 'its path has an empty folder name ("//")';
  return undefined;
}

export function looksLikeImageName(name: string): boolean {
  return IMAGE_EXT.test(name);
}

/** A query's identity, when its name tells it: a gallery identity equal to its folder or to its LFW-style stem "Name_0003". */
export function guessQueryIdentity(relativePath: string, galleryIdentities: ReadonlySet<string>): string | undefined {
  const parts = relativePath.split('/').filter(Boolean);
  if (parts.length >= 2 && galleryIdentities.has(parts[parts.length - 2])) return parts[parts.length - 2];
  const s = stem(parts[parts.length - 1] ?? '');
  if (galleryIdentities.has(s)) return s;
  const m = /^(.+)_\d+$/.exec(s);
  if (m && galleryIdentities.has(m[1])) return m[1];
  return undefined;
}
