package cmd

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	gogoproto "github.com/cosmos/gogoproto/proto"
	"github.com/ethereum/go-ethereum/common"
	"github.com/spf13/cobra"

	feemarkettypes "github.com/cosmos/evm/x/feemarket/types"

	"cosmossdk.io/math"

	"github.com/cosmos/cosmos-sdk/client"
	"github.com/cosmos/cosmos-sdk/client/flags"
	"github.com/cosmos/cosmos-sdk/client/tx"
	sdk "github.com/cosmos/cosmos-sdk/types"
	authtx "github.com/cosmos/cosmos-sdk/x/auth/tx"

	"sahara/chain/app"
)

// sendMsg signs msg with --from, prices gas from the fee market's base fee and simulates the gas
// unless the user set --fees/--gas-prices/--gas, broadcasts it, waits until a block includes it,
// and decodes the message's response into resp.
func sendMsg(cmd *cobra.Command, msg sdk.Msg, resp gogoproto.Message) (*sdk.TxResponse, error) {
	clientCtx, err := txContext(cmd)
	if err != nil {
		return nil, err
	}
	if clientCtx.FromName == "" {
		return nil, errors.New("--from is required: a key name from `sahara keys list` (dev0 … dev9 on a dev chain)")
	}
	txf, err := tx.NewFactoryCLI(clientCtx, cmd.Flags())
	if err != nil {
		return nil, err
	}
	if !cmd.Flags().Changed(flags.FlagFees) && !cmd.Flags().Changed(flags.FlagGasPrices) {
		res, err := feemarkettypes.NewQueryClient(clientCtx).BaseFee(cmd.Context(), &feemarkettypes.QueryBaseFeeRequest{})
		if err != nil {
			return nil, fmt.Errorf("reading the base fee from %s: %w", clientCtx.NodeURI, err)
		}
		price := math.LegacyNewDec(1)
		if res.BaseFee != nil {
			price = res.BaseFee.MulInt64(2) // headroom for the base fee rising before inclusion
		}
		txf = txf.WithGasPrices(price.String() + app.Denom)
	}
	if txf, err = txf.Prepare(clientCtx); err != nil {
		return nil, err
	}
	if !cmd.Flags().Changed(flags.FlagGas) {
		_, gas, err := tx.CalculateGas(clientCtx, txf.WithGasAdjustment(1.3), msg)
		if err != nil {
			return nil, fmt.Errorf("simulating: %w", err)
		}
		txf = txf.WithGas(gas)
	}
	builder, err := txf.BuildUnsignedTx(msg)
	if err != nil {
		return nil, err
	}
	if err := tx.Sign(cmd.Context(), txf, clientCtx.FromName, builder, true); err != nil {
		return nil, err
	}
	bz, err := clientCtx.TxConfig.TxEncoder()(builder.GetTx())
	if err != nil {
		return nil, err
	}
	res, err := clientCtx.BroadcastTxSync(bz)
	if err != nil {
		return nil, err
	}
	if res.Code != 0 {
		return res, fmt.Errorf("rejected: %s", res.RawLog)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		got, err := authtx.QueryTx(clientCtx, res.TxHash)
		if err == nil {
			if got.Code != 0 {
				return got, fmt.Errorf("failed in block %d: %s", got.Height, got.RawLog)
			}
			if resp != nil {
				if err := decodeResponse(clientCtx, got, resp); err != nil {
					return got, err
				}
			}
			return got, nil
		}
		if time.Now().After(deadline) {
			return res, fmt.Errorf("transaction %s not in a block after 60 s: %w", res.TxHash, err)
		}
		time.Sleep(300 * time.Millisecond)
	}
}

func decodeResponse(clientCtx client.Context, r *sdk.TxResponse, resp gogoproto.Message) error {
	raw, err := hex.DecodeString(r.Data)
	if err != nil {
		return err
	}
	var data sdk.TxMsgData
	if err := clientCtx.Codec.Unmarshal(raw, &data); err != nil {
		return err
	}
	if len(data.MsgResponses) == 0 {
		return errors.New("the transaction returned no message response")
	}
	return gogoproto.Unmarshal(data.MsgResponses[0].Value, resp)
}

// fromAddress is the bech32 address of --from.
func fromAddress(cmd *cobra.Command) (string, error) {
	clientCtx, err := txContext(cmd)
	if err != nil {
		return "", err
	}
	if clientCtx.FromName == "" {
		return "", errors.New("--from is required: a key name from `sahara keys list` (dev0 … dev9 on a dev chain)")
	}
	return clientCtx.FromAddress.String(), nil
}

// bech32Addr accepts a 0x address or a bech32 one.
func bech32Addr(s string) (string, error) {
	if strings.HasPrefix(s, "0x") || strings.HasPrefix(s, "0X") {
		if !common.IsHexAddress(s) {
			return "", fmt.Errorf("%q is not a 20-byte 0x address", s)
		}
		return sdk.AccAddress(common.HexToAddress(s).Bytes()).String(), nil
	}
	if _, err := sdk.AccAddressFromBech32(s); err != nil {
		return "", fmt.Errorf("%q is neither a 0x address nor a bech32 (sahara1…) one: %v", s, err)
	}
	return s, nil
}

// printJSON prints a proto message as indented JSON.
func printJSON(cmd *cobra.Command, m gogoproto.Message) error {
	clientCtx := client.GetClientContextFromCmd(cmd)
	bz, err := clientCtx.Codec.MarshalJSON(m)
	if err != nil {
		return err
	}
	return clientCtx.PrintRaw(bz)
}

func txContext(cmd *cobra.Command) (client.Context, error) { return client.GetClientTxContext(cmd) }
func queryContext(cmd *cobra.Command) (client.Context, error) {
	return client.GetClientQueryContext(cmd)
}
