// Types of host-build.js (plain JavaScript: bin/parley.js loads it on any Node), for
// scripts/build-host.ts, bench/ and the tests.
export declare const ROOT: string;
export declare const BUILD_DIR: string;
export declare const STAMP_FILE: string;
export declare const BUILT_ENTRY: string;
export declare const BUILT_HOST_MODULE: string;
export declare function sourceStamp(root?: string): string;
export declare function freshBuild(root?: string): { entry: string } | { reason: string };
