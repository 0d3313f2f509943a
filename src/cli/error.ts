// The CLI layer's error: bad arguments or input it cannot use. Always printed as one line
// on stderr with exit code 2 ("could not verify").
export class CliError extends Error {
  override readonly name = 'CliError';
}
