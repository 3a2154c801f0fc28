package scalar

import (
	"reflect"

	"github.com/shopspring/decimal"
	"github.com/vmihailenco/msgpack/v5"
)

// decimalCursorExt is the msgpack extension type of a decimal.Decimal inside
// a Cursor.
const decimalCursorExt int8 = 1

// A Cursor (entgql's, opaque to clients) is the msgpack encoding of the last
// row's id and the value of the connection's order field. msgpack would
// encode a decimal.Decimal (orderBy LINEA_CREDITO, MONTO_TOTAL, ...) through
// its MarshalBinary and decode it back as raw bytes, which the database then
// compares with a numeric column: the next page came back empty on SQLite
// and failed on PostgreSQL. As a msgpack extension a decimal survives the
// round trip as a decimal.Decimal, and is bound to the query as a number.
func init() {
	msgpack.RegisterExtEncoder(decimalCursorExt, decimal.Decimal{},
		func(_ *msgpack.Encoder, v reflect.Value) ([]byte, error) {
			return msgpack.Marshal(v.Interface().(decimal.Decimal).String())
		})
	msgpack.RegisterExtDecoder(decimalCursorExt, decimal.Decimal{},
		func(dec *msgpack.Decoder, v reflect.Value, _ int) error {
			s, err := dec.DecodeString()
			if err != nil {
				return err
			}
			d, err := decimal.NewFromString(s)
			if err != nil {
				return err
			}
			v.Set(reflect.ValueOf(d))
			return nil
		})
}
