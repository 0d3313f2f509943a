// Provided by web/plugins/bundled-sysroot.ts: the Debian 12 sysroot the web build bundled, or why it could not.
declare module 'virtual:bundled-sysroot' {
  export interface BundledPackage {
    name: string;
    version: string;
    /** URL of the package's /usr/share/doc/<package>/copyright, shipped with the page. */
    notice: string;
  }
  export type BundledSysroot =
    | { available: true; distribution: string; tarUrl: string; files: string[]; packages: BundledPackage[] }
    | { available: false; reason: string };
  const sysroot: BundledSysroot;
  export default sysroot;
}
