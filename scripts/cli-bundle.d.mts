/** The path of the current sources' bundle of the tandem command (of the repository at `root`), built when missing. */
export function cliBundle(root?: string): Promise<string>;
/** Node's arguments that run the tandem command: its options, then its bundle's main.js. */
export function tandemNodeArgs(): Promise<string[]>;
