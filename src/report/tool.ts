// Who wrote a report: the name and version every format records (JSON `tool`, SARIF driver).

export const TOOL = { name: 'verify-patch', version: '0.1.0' } as const;
