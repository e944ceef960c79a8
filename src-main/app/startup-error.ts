// What the error box says when the app cannot start (the database or its native addon will not open).
// Pure, unit-tested: names the cause and the one thing to do about it.

export interface StartupErrorText {
  title: string;
  message: string;
}

export function describeStartupError(err: unknown, context: { dataHome: string; nativeBinding?: string | undefined }): StartupErrorText {
  const text = err instanceof Error ? err.message : String(err);
  const title = 'VAE Workbench cannot start';
  if (
    /NODE_MODULE_VERSION|was compiled against a different Node\.js version|invalid ELF header|not a valid Win32 application|mach-o/i.test(
      text,
    )
  ) {
    return {
      title,
      message:
        `The SQLite addon (better-sqlite3) was built for a different Node.js/Electron ABI than this Electron ` +
        `${process.versions.electron ?? ''}:\n\n${text}\n\n` +
        'Rebuild it for Electron with `npm run rebuild:electron` (npm start does this when Electron or better-sqlite3 changed), ' +
        'or use the browser host: `VAE_WORKBENCH_WEB=1 npm start`.',
    };
  }
  if (/schema version/i.test(text)) {
    return { title, message: `${text}\n\nData home: ${context.dataHome}` };
  }
  if (/Cannot find module|could not locate the bindings file|ERR_DLOPEN_FAILED/i.test(text)) {
    return {
      title,
      message: `The SQLite addon (better-sqlite3${context.nativeBinding ? `, ${context.nativeBinding}` : ''}) could not be loaded:\n\n${text}\n\nRun \`npm run rebuild:electron\`.`,
    };
  }
  return { title, message: `The run database in ${context.dataHome} could not be opened:\n\n${text}` };
}
