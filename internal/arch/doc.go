// Package arch holds no code: its tests check the module's architecture as
// a whole. layering_test.go reads the import graph (go list) and fails when
// a package imports across a boundary it must not cross;
// codes_test.go fails when product code spells an error code as a string
// literal instead of using internal/apperror's constants.
package arch
