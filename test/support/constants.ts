/** Values shared by the test config (Node) and the tests (workerd). */
export const TEST_SUPABASE_JWT_SECRET = 'parley-test-legacy-jwt-secret-0123456789abcdef';
