import { existsSync, readFileSync } from 'node:fs';
import type { ConfigProblems } from './define-config.js';

/**
 * Reads a file named by a `*_FILE` variable (a mounted secret: Docker/Compose secrets, Kubernetes
 * volumes). A missing or unreadable file is a problem naming the variable, never the path's content.
 */
export function readConfigFile(path: string, variable: string, problems: ConfigProblems): Buffer | undefined {
  if (!existsSync(path)) {
    problems.add(`${variable} points to a file that does not exist`, variable);
    return undefined;
  }
  try {
    return readFileSync(path);
  } catch {
    problems.add(`${variable} points to a file that cannot be read`, variable);
    return undefined;
  }
}

/** A secret held in a file, trimmed (editors and `echo` add a newline); an empty file is a problem. */
export function readSecretFile(path: string, variable: string, problems: ConfigProblems): string | undefined {
  const value = readConfigFile(path, variable, problems)?.toString('utf8').trim();
  if (value === '') problems.add(`${variable} points to an empty file`, variable);
  return value || undefined;
}

/** `NAME` or `NAME_FILE`, not both; the file wins when only it is set. */
export function valueOrFile(value: string | undefined, file: string | undefined, variable: string, problems: ConfigProblems): string | undefined {
  if (value && file) {
    problems.add(`${variable} and ${variable}_FILE must not both be set`, variable);
    return undefined;
  }
  return file ? readSecretFile(file, `${variable}_FILE`, problems) : value;
}
