/** The office API's shapes (src/web/api-types.ts, type-only). */
export type {
  OfficeGrant,
  OfficeMoveResponse,
  OfficePeriodItem,
  OfficeResponse as OfficeData,
  OfficeSettings,
  OfficeSettingsResponse,
  OfficeSlot,
  OfficeStudent,
  OfficeSubstitution,
  OfficeWorkKind,
  OfficeWorkKindsResponse,
  ReportFigureRow,
  ReportFillingRow,
  ReportOptionsResponse as ReportOptions,
  ReportResponse as ReportData,
} from '../../api-types.js';
