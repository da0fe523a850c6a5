/** The API's shapes as the front end reads them: the server's contract (src/web/api-types.ts, type-only). */
export type {
  ApiError as ApiErrorBody,
  AttendanceDay,
  ChildAttendanceResponse as ChildAttendance,
  ChildHomeworkResponse as ChildHomework,
  ChildMarksResponse as ChildMarks,
  ChildPeriodItem,
  GridCell,
  GridLesson,
  GridMark,
  GridResponse as Grid,
  MeResponse as Me,
} from '../api-types.js';
